"""GuardrailService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

from llmops.v1 import guardrail_pb2, guardrail_pb2_grpc

from services.common.server import ServiceSpec
from services.guardrail.settings import GuardrailSettings


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServiceServicer):
    """RPCs not overridden here answer UNIMPLEMENTED through the generated base class."""


async def create_servicer(settings: GuardrailSettings) -> tuple[GuardrailServicer, None]:
    """Build the servicer from settings; nothing to close yet."""
    return GuardrailServicer(), None


SPEC = ServiceSpec(
    name="guardrail",
    service_name=guardrail_pb2.DESCRIPTOR.services_by_name["GuardrailService"].full_name,
    settings_cls=GuardrailSettings,
    add_to_server=guardrail_pb2_grpc.add_GuardrailServiceServicer_to_server,
    factory=create_servicer,
)
