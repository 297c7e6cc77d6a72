"""How one llmops service calls another: LogSink forwarding, Drift reading LogSink.

These calls act on a tenant's behalf, so they carry that tenant in
``x-llmops-tenant`` and, when the receiver checks API keys, the service key
(``LLMOPS_INTERNAL_API_KEY``, listed under ``"*"`` in the keys file). With
``LLMOPS_TLS_CA_FILE`` they use TLS, and present the service's own certificate so
that receivers requiring mutual TLS accept them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from services.common.settings import CommonSettings
from services.common.tenancy import API_KEY_METADATA_KEY, TENANT_METADATA_KEY


@dataclass(frozen=True)
class InternalCredentials:
    """Channel credentials and key for calls to the other services (none: plaintext)."""

    channel_credentials: grpc.ChannelCredentials | None = None
    api_key: str = ""

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> InternalCredentials:
        credentials = None
        if settings.tls_ca_file is not None:
            cert, key = settings.tls_cert_file, settings.tls_key_file
            own = (key.read_bytes(), cert.read_bytes()) if cert and key else (None, None)
            credentials = grpc.ssl_channel_credentials(
                root_certificates=settings.tls_ca_file.read_bytes(),
                private_key=own[0],
                certificate_chain=own[1],
            )
        return cls(credentials, settings.internal_api_key)

    def channel(self, address: str, options: Sequence[tuple[str, Any]] = ()) -> grpc.aio.Channel:
        """A long-lived channel to another service at ``address`` (host:port)."""
        if self.channel_credentials is None:
            return grpc.aio.insecure_channel(address, options=options)
        return grpc.aio.secure_channel(address, self.channel_credentials, options=options)

    def metadata(self, tenant: str) -> tuple[tuple[str, str], ...]:
        """Call metadata acting for ``tenant``."""
        if not self.api_key:
            return ((TENANT_METADATA_KEY, tenant),)
        return ((TENANT_METADATA_KEY, tenant), (API_KEY_METADATA_KEY, self.api_key))


PLAINTEXT = InternalCredentials()
"""No TLS and no key: the embedded single-machine setup, and the tests' default."""
