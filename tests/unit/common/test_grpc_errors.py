"""Domain errors map to gRPC status codes with ErrorInfo details, in one place."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from services.common import errors
from services.common.grpc_errors import internal_status, reason_for, to_grpc_status


class BudgetExceeded(errors.ResourceExhausted):
    pass


def _details(status: grpc.Status) -> tuple[status_pb2.Status, error_details_pb2.ErrorInfo]:
    (key, value) = status.trailing_metadata[0]
    assert key == "grpc-status-details-bin"
    proto = status_pb2.Status.FromString(value)
    info = error_details_pb2.ErrorInfo()
    assert proto.details[0].Unpack(info)
    return proto, info


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InvalidArgument("model", "empty"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound("no such policy"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("exists"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("baseline too small"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.ResourceExhausted("budget"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unauthenticated("no key"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.PermissionDenied("other tenant"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.Unavailable("database down"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_each_domain_error_has_its_status_code(
    error: errors.LlmopsError, code: grpc.StatusCode
) -> None:
    status = to_grpc_status(error)
    proto, info = _details(status)
    assert status.code is code
    assert proto.code == code.value[0]
    assert info.reason == reason_for(error)
    assert info.domain == "llmops.dev"


def test_invalid_argument_names_the_field() -> None:
    status = to_grpc_status(errors.InvalidArgument("budget.limit", "must be positive"))
    _, info = _details(status)
    assert status.details == "budget.limit: must be positive"
    assert info.metadata["field"] == "budget.limit"


def test_subclass_keeps_parent_code_and_gets_its_own_reason() -> None:
    status = to_grpc_status(BudgetExceeded("team budget used up", {"scope": "team"}))
    _, info = _details(status)
    assert status.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (info.reason, info.metadata["scope"]) == ("BUDGET_EXCEEDED", "team")


def test_unmapped_error_is_internal_without_its_message() -> None:
    status = to_grpc_status(errors.LlmopsError("database password is hunter2"))
    assert status.code is grpc.StatusCode.INTERNAL
    assert "hunter2" not in status.details
    assert internal_status().code is grpc.StatusCode.INTERNAL
