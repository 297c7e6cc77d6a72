"""Settings of CostService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port


@dataclass(frozen=True)
class CostSettings(CommonSettings):
    """CostService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("cost", 50052)
    metrics_port: int = metrics_port("cost", 9102)
