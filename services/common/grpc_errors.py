"""The one mapping from domain errors to gRPC status codes with rich details.

Every status carries a ``google.rpc.ErrorInfo`` (reason = the exception class in
UPPER_SNAKE_CASE, domain ``llmops.dev``, metadata from the exception) so clients in
any language can branch on ``reason`` rather than parse messages.
"""

from __future__ import annotations

import re

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common import errors

ERROR_DOMAIN = "llmops.dev"

_CODES: dict[type[errors.LlmopsError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}

INTERNAL_MESSAGE = "internal error; the server logged the details"


def status_code_for(exc: errors.LlmopsError) -> grpc.StatusCode:
    """The status code of a domain error, found through its class hierarchy."""
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return grpc.StatusCode.INTERNAL


def reason_for(exc: BaseException) -> str:
    """``InvalidArgument`` -> ``INVALID_ARGUMENT``; the stable machine-readable reason."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).upper()


def to_grpc_status(exc: errors.LlmopsError) -> grpc.Status:
    """Build the ``grpc.Status`` (code, message, ErrorInfo detail) for a domain error."""
    code = status_code_for(exc)
    message = exc.message if code is not grpc.StatusCode.INTERNAL else INTERNAL_MESSAGE
    return _status(code, message, reason_for(exc), exc.metadata)


def internal_status() -> grpc.Status:
    """The status sent for an unexpected exception: no internals leak to the caller."""
    return _status(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE, "INTERNAL", {})


def status_from_code(code: grpc.StatusCode, message: str) -> grpc.Status:
    """A status for a code a servicer set itself (e.g. UNIMPLEMENTED), with ErrorInfo."""
    return _status(code, message, code.name, {})


def _status(
    code: grpc.StatusCode, message: str, reason: str, metadata: dict[str, str]
) -> grpc.Status:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=[detail])
    return rpc_status.to_status(proto)
