"""Settings of GuardrailService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port


@dataclass(frozen=True)
class GuardrailSettings(CommonSettings):
    """GuardrailService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("guardrail", 50051)
    metrics_port: int = metrics_port("guardrail", 9101)
