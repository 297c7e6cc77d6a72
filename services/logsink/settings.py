"""Settings of LogSinkService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.settings import CommonSettings, grpc_port, metrics_port


@dataclass(frozen=True)
class LogSinkSettings(CommonSettings):
    """LogSinkService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("logsink", 50055)
    metrics_port: int = metrics_port("logsink", 9105)
