"""Settings of DriftService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port


@dataclass(frozen=True)
class DriftSettings(CommonSettings):
    """DriftService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("drift", 50053)
    metrics_port: int = metrics_port("drift", 9103)
