"""DriftService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

from llmops.v1 import drift_pb2, drift_pb2_grpc

from services.common.server import ServiceSpec
from services.drift.settings import DriftSettings


class DriftServicer(drift_pb2_grpc.DriftServiceServicer):
    """RPCs not overridden here answer UNIMPLEMENTED through the generated base class."""


async def create_servicer(settings: DriftSettings) -> tuple[DriftServicer, None]:
    """Build the servicer from settings; nothing to close yet."""
    return DriftServicer(), None


SPEC = ServiceSpec(
    name="drift",
    service_name=drift_pb2.DESCRIPTOR.services_by_name["DriftService"].full_name,
    settings_cls=DriftSettings,
    add_to_server=drift_pb2_grpc.add_DriftServiceServicer_to_server,
    factory=create_servicer,
)
