"""Settings of ExperimentService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port


@dataclass(frozen=True)
class ExperimentSettings(CommonSettings):
    """ExperimentService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("experiment", 50054)
    metrics_port: int = metrics_port("experiment", 9104)
