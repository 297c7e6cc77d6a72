"""ExperimentService servicer: decodes requests and hands them to the engine (proto <-> domain)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import grpc
from google.protobuf import timestamp_pb2
from llmops.v1 import common_pb2, experiment_pb2, experiment_pb2_grpc

from services.common.db import create_engine
from services.common.errors import InvalidArgument
from services.common.server import ServiceSpec
from services.common.timestamps import to_micros
from services.experiment import model
from services.experiment.engine import (
    Assignment,
    CallInput,
    ExperimentEngine,
    OutcomeInput,
)
from services.experiment.exposures import ExposureRecorder
from services.experiment.results import Results
from services.experiment.settings import ExperimentSettings
from services.experiment.store import ExperimentStore

pb = experiment_pb2


class ExperimentServicer(experiment_pb2_grpc.ExperimentServiceServicer):
    """Thin: every RPC converts its request, awaits the engine and converts back."""

    def __init__(self, engine: ExperimentEngine) -> None:
        self._engine = engine

    async def CreateExperiment(
        self, request: pb.CreateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateExperimentResponse:
        created = await self._engine.create(_experiment(request.experiment, "experiment"))
        return pb.CreateExperimentResponse(experiment=_experiment_pb(created))

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetExperimentResponse:
        experiment = await self._engine.get(request.id)
        return pb.GetExperimentResponse(experiment=_experiment_pb(experiment))

    async def ListExperiments(
        self, request: pb.ListExperimentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListExperimentsResponse:
        page, token = await self._engine.list_experiments(
            _enum(model.Status, request.status, "status"), request.page_size, request.page_token
        )
        return pb.ListExperimentsResponse(
            experiments=[_experiment_pb(e) for e in page], next_page_token=token
        )

    async def UpdateExperiment(
        self, request: pb.UpdateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateExperimentResponse:
        patch = _experiment(request.experiment, "experiment")
        updated = await self._engine.update(
            patch, list(request.update_mask.paths), request.new_version
        )
        return pb.UpdateExperimentResponse(experiment=_experiment_pb(updated))

    async def StopExperiment(
        self, request: pb.StopExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.StopExperimentResponse:
        stopped = await self._engine.stop(request.id)
        return pb.StopExperimentResponse(experiment=_experiment_pb(stopped))

    async def Assign(
        self, request: pb.AssignRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignResponse:
        status, assignment = await self._engine.assign(request.experiment_id, request.user_id)
        return pb.AssignResponse(assignment=_assignment_pb(assignment), status=_status_pb(status))

    async def AssignBatch(
        self, request: pb.AssignBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignBatchResponse:
        status, assignments = await self._engine.assign_batch(
            request.experiment_id, list(request.user_ids)
        )
        return pb.AssignBatchResponse(
            assignments=[_assignment_pb(a) for a in assignments], status=_status_pb(status)
        )

    async def RecordOutcomes(
        self, request: pb.RecordOutcomesRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordOutcomesResponse:
        outcomes = [
            OutcomeInput(
                experiment_id=o.experiment_id,
                variant=o.variant,
                user_id=o.user_id,
                metric=o.metric,
                value=o.value,
                time_us=(
                    to_micros(o.timestamp, f"outcomes[{i}].timestamp")
                    if o.HasField("timestamp")
                    else 0
                ),
            )
            for i, o in enumerate(request.outcomes)
        ]
        return pb.RecordOutcomesResponse(recorded=await self._engine.record_outcomes(outcomes))

    async def RecordCallOutcomes(
        self, request: pb.RecordCallOutcomesRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordCallOutcomesResponse:
        counts = await self._engine.record_call_outcomes(
            [_call(i, r) for i, r in enumerate(request.records)]
        )
        return pb.RecordCallOutcomesResponse(
            recorded=counts.recorded, duplicates=counts.duplicates, ignored=counts.ignored
        )

    async def GetResults(
        self, request: pb.GetResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetResultsResponse:
        results = await self._engine.results(
            request.experiment_id, request.metric, request.alpha, request.min_samples_per_variant
        )
        return _results_pb(results)


E = TypeVar("E", model.Status, model.MetricKind)


def _enum(cls: type[E], value: int, field: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise InvalidArgument(field, f"unknown enum value {value}") from None


def _metric(spec: pb.MetricSpec, field: str) -> model.MetricSpec:
    return model.MetricSpec(
        spec.name, _enum(model.MetricKind, spec.kind, f"{field}.kind"), spec.higher_is_better
    )


def _experiment(e: pb.Experiment, field: str) -> model.Experiment:
    return model.Experiment(
        id=e.id,
        description=e.description,
        variants=tuple(
            model.Variant(v.name, v.weight, v.prompt_template, v.template_text) for v in e.variants
        ),
        status=_enum(model.Status, e.status, f"{field}.status"),
        control_variant=e.control_variant,
        primary_metric=(
            _metric(e.primary_metric, f"{field}.primary_metric")
            if e.HasField("primary_metric")
            else None
        ),
        guardrail_metrics=tuple(
            _metric(m, f"{field}.guardrail_metrics[{i}]") for i, m in enumerate(e.guardrail_metrics)
        ),
    )


def _status_pb(status: model.Status) -> pb.ExperimentStatus:
    # The domain enum mirrors the proto numbers one to one.
    return cast(pb.ExperimentStatus, int(status))


def _timestamp(micros: int) -> timestamp_pb2.Timestamp | None:
    if not micros:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMicroseconds(micros)
    return stamp


def _metric_pb(spec: model.MetricSpec) -> pb.MetricSpec:
    return pb.MetricSpec(
        name=spec.name,
        kind=cast(pb.MetricKind, int(spec.kind)),
        higher_is_better=spec.higher_is_better,
    )


def _experiment_pb(e: model.Experiment) -> pb.Experiment:
    return pb.Experiment(
        id=e.id,
        description=e.description,
        variants=[
            pb.Variant(
                name=v.name,
                prompt_template=v.prompt_template,
                template_text=v.template_text,
                weight=v.weight,
            )
            for v in e.variants
        ],
        status=_status_pb(e.status),
        control_variant=e.control_variant,
        primary_metric=_metric_pb(e.primary_metric) if e.primary_metric else None,
        guardrail_metrics=[_metric_pb(m) for m in e.guardrail_metrics],
        start_time=_timestamp(e.start_time_us),
        stop_time=_timestamp(e.stop_time_us),
        version=e.version,
        create_time=_timestamp(e.create_time_us),
        update_time=_timestamp(e.update_time_us),
    )


def _assignment_pb(a: Assignment) -> pb.Assignment:
    return pb.Assignment(
        user_id=a.user_id,
        variant=a.variant.name,
        prompt_template=a.variant.prompt_template,
        template_text=a.variant.template_text,
        bucket=a.bucket,
        control_fallback=a.control_fallback,
    )


def _call(index: int, record: common_pb2.CallRecord) -> CallInput:
    billed = record.billed_cost
    cost = (
        billed.amount_micros
        if record.HasField("billed_cost") and billed.currency_code in ("", "USD")
        else None
    )
    try:
        status = model.CallStatus(record.status)
    except ValueError:
        status = model.CallStatus.UNSPECIFIED
    return CallInput(
        request_id=record.request_id,
        experiment_id=record.experiment_id,
        variant=record.variant,
        user_id=record.user_id,
        status=status,
        latency_ms=record.latency_ms,
        cost_micros=cost,
        input_tokens=record.usage.input_tokens,
        output_tokens=record.usage.output_tokens,
        time_us=(
            to_micros(record.timestamp, f"records[{index}].timestamp")
            if record.HasField("timestamp")
            else 0
        ),
    )


def _results_pb(r: Results) -> pb.GetResultsResponse:
    return pb.GetResultsResponse(
        experiment_id=r.experiment_id,
        metric=_metric_pb(r.metric),
        control_variant=r.control_variant,
        variants=[
            pb.VariantStats(
                variant=v.variant,
                n=v.summary.n,
                mean=v.summary.mean,
                std_dev=v.summary.std_dev,
                ci_low=v.summary.ci_low,
                ci_high=v.summary.ci_high,
                exposures=v.exposures,
            )
            for v in r.variants
        ],
        comparisons=[
            pb.Comparison(
                variant=c.variant,
                difference=c.test.difference,
                relative_difference_percent=c.test.relative_difference_percent,
                ci_low=c.test.ci_low,
                ci_high=c.test.ci_high,
                p_value=c.test.p_value,
                test=c.test.test,
                minimum_detectable_effect=c.test.minimum_detectable_effect,
                sample_size_reached=c.sample_size_reached,
                significant=c.significant,
                sequential_p_value=c.sequential_p_value,
                sequential_significant=c.sequential_significant,
            )
            for c in r.comparisons
        ],
        sample_ratio=pb.SampleRatioCheck(
            chi_square=r.sample_ratio.chi_square,
            p_value=r.sample_ratio.p_value,
            mismatch=r.sample_ratio.mismatch,
        ),
        verdict=r.verdict,
        alpha=r.alpha,
    )


async def create_servicer(
    settings: ExperimentSettings,
) -> tuple[ExperimentServicer, Callable[[], Awaitable[None]]]:
    """Open and migrate the database, start the exposure writer, build the servicer."""
    store = ExperimentStore(create_engine(settings.database_url))
    await asyncio.to_thread(store.migrate)
    recorder = ExposureRecorder(
        store.record_exposures,
        flush_interval=settings.exposure_flush_interval_seconds,
        batch_size=settings.exposure_batch_size,
        max_pending=settings.exposure_max_pending,
    )
    recorder.start()
    engine = ExperimentEngine(
        store,
        recorder,
        cache_seconds=settings.experiment_cache_seconds,
        min_samples_per_variant=settings.min_samples_per_variant,
        mixing_sd=settings.msprt_mixing_sd,
        max_batch_users=settings.max_batch_users,
    )

    async def close() -> None:
        # Runs after the server stopped taking calls: flush, then release connections.
        await recorder.close()
        store.close()

    return ExperimentServicer(engine), close


SPEC = ServiceSpec(
    name="experiment",
    service_name=experiment_pb2.DESCRIPTOR.services_by_name["ExperimentService"].full_name,
    settings_cls=ExperimentSettings,
    add_to_server=experiment_pb2_grpc.add_ExperimentServiceServicer_to_server,
    factory=create_servicer,
)
