"""Domain errors raised by engines and storage; they know nothing about gRPC.

Engines raise these; :mod:`services.common.grpc_errors` is the one place that turns
them into gRPC status codes with ``google.rpc.ErrorInfo`` details. A service that
needs a more specific reason subclasses one of them (``class BudgetExceeded(
ResourceExhausted)``): the status code comes from the parent, the ``ErrorInfo``
reason from the subclass name (``BUDGET_EXCEEDED``).

Messages are shown to callers, so they must never carry prompt text or secrets.
"""

from __future__ import annotations

from collections.abc import Mapping


class LlmopsError(Exception):
    """Base of every error a caller may see; ``metadata`` goes into ``ErrorInfo``."""

    def __init__(self, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(LlmopsError):
    """A request field is malformed; ``field`` names it (proto field path)."""

    def __init__(self, field: str, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{field}: {message}", {**(metadata or {}), "field": field})
        self.field = field


class NotFound(LlmopsError):
    """The named resource does not exist (for this tenant)."""


class AlreadyExists(LlmopsError):
    """A resource with the same identity already exists."""


class FailedPrecondition(LlmopsError):
    """The system is not in a state where the request can run (e.g. baseline too small)."""


class ResourceExhausted(LlmopsError):
    """A quota or budget is used up."""


class Unauthenticated(LlmopsError):
    """The call carries no valid credentials."""


class PermissionDenied(LlmopsError):
    """The credentials are valid but do not allow this call."""


class Unavailable(LlmopsError):
    """A dependency (database, object store, another service) cannot be reached; retryable."""
