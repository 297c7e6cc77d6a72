"""Which tenant the current call belongs to, and how API keys map to tenants.

The server interceptor binds the tenant for the duration of each RPC (inside the
RPC's own task), so servicers call :func:`current_tenant` instead of reading
metadata. Outside an RPC (tests, background workers) bind one explicitly with
:func:`tenant_scope`. There is deliberately no fallback: code that forgets to bind
a tenant fails loudly instead of silently writing into the default tenant.

API keys are stored as SHA-256 hex digests so the keys file holds nothing a reader
could replay: ``{"acme": ["<sha256 of key>", ...], "globex": [...]}``. Keys listed
under ``"*"`` are service keys: the llmops services present one when they call each
other on a tenant's behalf (LogSink forwarding, Drift reading LogSink), so such a
key acts for the tenant named in ``x-llmops-tenant`` and must name one.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.common.errors import InvalidArgument, PermissionDenied, Unauthenticated

TENANT_METADATA_KEY = "x-llmops-tenant"
API_KEY_METADATA_KEY = "x-api-key"
# Entry of the API keys file whose keys may act for any tenant they name.
SERVICE_KEYS = "*"
_TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")

_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("llmops_tenant")


def current_tenant() -> str:
    """The tenant of the running call; raises ``LookupError`` when none is bound."""
    try:
        return _tenant.get()
    except LookupError:
        raise LookupError("no tenant bound: not inside an RPC or tenant_scope()") from None


@contextmanager
def tenant_scope(tenant: str) -> Iterator[str]:
    """Bind ``tenant`` for the enclosed code (RPC handlers, background jobs, tests)."""
    token = _tenant.set(validate_tenant(tenant))
    try:
        yield tenant
    finally:
        _tenant.reset(token)


def validate_tenant(tenant: str) -> str:
    """Tenant ids are short lowercase slugs so they are safe as labels, keys and paths."""
    if not _TENANT_PATTERN.match(tenant):
        raise InvalidArgument(TENANT_METADATA_KEY, "tenant must match [a-z0-9][a-z0-9._-]{0,62}")
    return tenant


def hash_api_key(key: str) -> str:
    """The digest stored in the API keys file for ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """Maps API keys to tenants, loaded once from the keys file."""

    def __init__(self, tenant_by_digest: dict[str, str]) -> None:
        self._tenant_by_digest = tenant_by_digest

    @classmethod
    def load(cls, path: Path) -> ApiKeys:
        """Read ``{"tenant": ["sha256hex", ...]}``; a malformed file is a start-up error."""
        document = json.loads(path.read_text())
        if not isinstance(document, dict):
            raise ValueError(f"{path}: expected an object mapping tenant to key digests")
        tenant_by_digest: dict[str, str] = {}
        for tenant, digests in document.items():
            if tenant != SERVICE_KEYS:
                validate_tenant(tenant)
            if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
                raise ValueError(f"{path}: tenant {tenant!r} needs a list of key digests")
            for digest in digests:
                tenant_by_digest[digest.lower()] = tenant
        return cls(tenant_by_digest)

    def resolve(self, key: str | None, requested_tenant: str | None) -> str:
        """The tenant a call may act as, or a domain error saying why it may not."""
        if not key:
            raise Unauthenticated("missing API key (authorization: Bearer <key> or x-api-key)")
        tenant = self._tenant_by_digest.get(hash_api_key(key))
        if tenant is None:
            raise Unauthenticated("unknown API key")
        if tenant == SERVICE_KEYS:
            if requested_tenant is None:
                raise InvalidArgument(TENANT_METADATA_KEY, "a service key must name the tenant")
            return requested_tenant
        if requested_tenant is not None and requested_tenant != tenant:
            raise PermissionDenied(
                "API key does not grant access to the requested tenant",
                {"tenant": requested_tenant},
            )
        return tenant
