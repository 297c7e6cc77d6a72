"""CostService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

from llmops.v1 import cost_pb2, cost_pb2_grpc

from services.common.server import ServiceSpec
from services.cost.settings import CostSettings


class CostServicer(cost_pb2_grpc.CostServiceServicer):
    """RPCs not overridden here answer UNIMPLEMENTED through the generated base class."""


async def create_servicer(settings: CostSettings) -> tuple[CostServicer, None]:
    """Build the servicer from settings; nothing to close yet."""
    return CostServicer(), None


SPEC = ServiceSpec(
    name="cost",
    service_name=cost_pb2.DESCRIPTOR.services_by_name["CostService"].full_name,
    settings_cls=CostSettings,
    add_to_server=cost_pb2_grpc.add_CostServiceServicer_to_server,
    factory=create_servicer,
)
