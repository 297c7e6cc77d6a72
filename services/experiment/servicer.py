"""ExperimentService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

from llmops.v1 import experiment_pb2, experiment_pb2_grpc

from services.common.server import ServiceSpec
from services.experiment.settings import ExperimentSettings


class ExperimentServicer(experiment_pb2_grpc.ExperimentServiceServicer):
    """RPCs not overridden here answer UNIMPLEMENTED through the generated base class."""


async def create_servicer(settings: ExperimentSettings) -> tuple[ExperimentServicer, None]:
    """Build the servicer from settings; nothing to close yet."""
    return ExperimentServicer(), None


SPEC = ServiceSpec(
    name="experiment",
    service_name=experiment_pb2.DESCRIPTOR.services_by_name["ExperimentService"].full_name,
    settings_cls=ExperimentSettings,
    add_to_server=experiment_pb2_grpc.add_ExperimentServiceServicer_to_server,
    factory=create_servicer,
)
