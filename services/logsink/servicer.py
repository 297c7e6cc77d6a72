"""LogSinkService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

from llmops.v1 import logsink_pb2, logsink_pb2_grpc

from services.common.server import ServiceSpec
from services.logsink.settings import LogSinkSettings


class LogSinkServicer(logsink_pb2_grpc.LogSinkServiceServicer):
    """RPCs not overridden here answer UNIMPLEMENTED through the generated base class."""


async def create_servicer(settings: LogSinkSettings) -> tuple[LogSinkServicer, None]:
    """Build the servicer from settings; nothing to close yet."""
    return LogSinkServicer(), None


SPEC = ServiceSpec(
    name="logsink",
    service_name=logsink_pb2.DESCRIPTOR.services_by_name["LogSinkService"].full_name,
    settings_cls=LogSinkSettings,
    add_to_server=logsink_pb2_grpc.add_LogSinkServiceServicer_to_server,
    factory=create_servicer,
)
