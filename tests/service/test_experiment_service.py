"""ExperimentService over real gRPC on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from llmops.v1 import common_pb2, experiment_pb2, experiment_pb2_grpc

from services.common.db import create_engine
from services.common.server import running_server
from services.experiment.servicer import SPEC
from services.experiment.settings import ExperimentSettings
from services.experiment.store import ExperimentStore, exposures

pb = experiment_pb2
VECTORS = Path(__file__).parents[1] / "data" / "assignment_vectors.json"
RUNNING = pb.EXPERIMENT_STATUS_RUNNING


@dataclass
class Client:
    stub: experiment_pb2_grpc.ExperimentServiceStub
    database_url: str

    def tenant(self, tenant: str) -> tuple[tuple[str, str], ...]:
        return (("x-llmops-tenant", tenant),)


def _settings(database_url: str, **changes: Any) -> ExperimentSettings:
    return ExperimentSettings(database_url=database_url, **changes)


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    async with (
        running_server(SPEC, _settings(database_url)) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield Client(experiment_pb2_grpc.ExperimentServiceStub(channel), database_url)


def _experiment(experiment_id: str = "tone", **fields: Any) -> pb.Experiment:
    defaults: dict[str, Any] = {
        "id": experiment_id,
        "description": "friendlier answers",
        "variants": [
            pb.Variant(name="control", prompt_template="answer@v1", weight=1),
            pb.Variant(
                name="friendly", prompt_template="answer@v2", template_text="Hi! {q}", weight=1
            ),
        ],
        "status": RUNNING,
        "primary_metric": pb.MetricSpec(
            name="thumbs_up", kind=pb.METRIC_KIND_PROPORTION, higher_is_better=True
        ),
    }
    return pb.Experiment(**{**defaults, **fields})


async def _create(client: Client, experiment: pb.Experiment, tenant: str = "acme") -> pb.Experiment:
    response = await client.stub.CreateExperiment(
        pb.CreateExperimentRequest(experiment=experiment),
        metadata=client.tenant(tenant),
        timeout=10,
    )
    return response.experiment


def _error(exc: pytest.ExceptionInfo[grpc.aio.AioRpcError]) -> tuple[grpc.StatusCode, str]:
    status = rpc_status.from_call(exc.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return exc.value.code(), info.metadata.get("field", "")


async def test_create_get_and_list_round_trip(client: Client) -> None:
    created = await _create(client, _experiment())
    assert created.version == 1
    assert created.status == RUNNING
    assert created.HasField("start_time")
    assert created.HasField("create_time")
    got = await client.stub.GetExperiment(
        pb.GetExperimentRequest(id="tone"), metadata=client.tenant("acme"), timeout=5
    )
    assert got.experiment == created


async def test_list_pages_newest_first_and_filters_by_status(client: Client) -> None:
    for i in range(5):
        status = RUNNING if i % 2 else pb.EXPERIMENT_STATUS_DRAFT
        await _create(client, _experiment(f"exp-{i}", status=status))
    seen: list[str] = []
    token = ""
    while True:
        page = await client.stub.ListExperiments(
            pb.ListExperimentsRequest(page_size=2, page_token=token),
            metadata=client.tenant("acme"),
            timeout=5,
        )
        seen += [e.id for e in page.experiments]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"exp-{i}" for i in reversed(range(5))]
    running = await client.stub.ListExperiments(
        pb.ListExperimentsRequest(status=RUNNING), metadata=client.tenant("acme"), timeout=5
    )
    assert [e.id for e in running.experiments] == ["exp-3", "exp-1"]


async def test_service_assignments_match_the_test_vectors(client: Client) -> None:
    """Every vector the API accepts (ASCII experiment id, non-empty user id), each weight
    set in its own tenant."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in json.loads(VECTORS.read_text()):
        if case["experiment_id"].isascii() and case["user_id"]:
            key = (case["experiment_id"], json.dumps(case["variants"]))
            groups.setdefault(key, []).append(case)
    assert len(groups) > 100
    for n, ((experiment_id, variants), cases) in enumerate(groups.items()):
        tenant = f"vectors-{n}"
        await _create(
            client,
            pb.Experiment(
                id=experiment_id,
                status=RUNNING,
                variants=[
                    pb.Variant(name=v["name"], weight=v["weight"]) for v in json.loads(variants)
                ],
            ),
            tenant,
        )
        response = await client.stub.AssignBatch(
            pb.AssignBatchRequest(
                experiment_id=experiment_id, user_ids=[c["user_id"] for c in cases]
            ),
            metadata=client.tenant(tenant),
            timeout=10,
        )
        for case, assignment in zip(cases, response.assignments, strict=True):
            assert assignment.bucket == case["bucket"]
            assert assignment.variant == case["variant"], case
            assert not assignment.control_fallback


async def test_assign_returns_the_variant_templates_and_is_sticky(client: Client) -> None:
    await _create(client, _experiment())
    first = await client.stub.Assign(
        pb.AssignRequest(experiment_id="tone", user_id="user-7"),
        metadata=client.tenant("acme"),
        timeout=5,
    )
    again = await client.stub.Assign(
        pb.AssignRequest(experiment_id="tone", user_id="user-7"),
        metadata=client.tenant("acme"),
        timeout=5,
    )
    assert first == again
    assert first.status == RUNNING
    expected = {"control": ("answer@v1", ""), "friendly": ("answer@v2", "Hi! {q}")}
    a = first.assignment
    assert (a.prompt_template, a.template_text) == expected[a.variant]


@pytest.mark.parametrize("action", ["pause", "stop", "draft"])
async def test_not_running_experiments_return_the_control_and_record_no_exposure(
    client: Client, action: str
) -> None:
    meta = client.tenant("acme")
    status = pb.EXPERIMENT_STATUS_DRAFT if action == "draft" else RUNNING
    await _create(client, _experiment(control_variant="friendly", status=status))
    if action == "pause":
        await client.stub.UpdateExperiment(
            pb.UpdateExperimentRequest(
                experiment=pb.Experiment(id="tone", status=pb.EXPERIMENT_STATUS_PAUSED),
                update_mask=field_mask_pb2.FieldMask(paths=["status"]),
            ),
            metadata=meta,
            timeout=5,
        )
    elif action == "stop":
        stopped = await client.stub.StopExperiment(
            pb.StopExperimentRequest(id="tone"), metadata=meta, timeout=5
        )
        assert stopped.experiment.HasField("stop_time")
        again = await client.stub.StopExperiment(
            pb.StopExperimentRequest(id="tone"), metadata=meta, timeout=5
        )
        assert again.experiment == stopped.experiment
    response = await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=[f"u{i}" for i in range(50)]),
        metadata=meta,
        timeout=5,
    )
    assert response.status != RUNNING
    assert {a.variant for a in response.assignments} == {"friendly"}
    assert all(a.control_fallback for a in response.assignments)
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=meta, timeout=10
    )
    assert sum(v.exposures for v in results.variants) == 0


async def test_changing_a_running_experiment_needs_a_new_version(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    request = pb.UpdateExperimentRequest(
        experiment=pb.Experiment(
            id="tone",
            variants=[pb.Variant(name="control", weight=9), pb.Variant(name="friendly", weight=1)],
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["variants"]),
    )
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await client.stub.UpdateExperiment(request, metadata=meta, timeout=5)
    assert exc.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "new_version" in (exc.value.details() or "")
    request.new_version = True
    updated = (await client.stub.UpdateExperiment(request, metadata=meta, timeout=5)).experiment
    assert updated.version == 2
    assert [v.weight for v in updated.variants] == [9, 1]
    # The new weights apply at once on this replica (the cache follows its own writes).
    response = await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=[f"u{i}" for i in range(2000)]),
        metadata=meta,
        timeout=10,
    )
    share = sum(a.variant == "control" for a in response.assignments) / 2000
    assert 0.87 < share < 0.93


async def test_tenants_do_not_see_each_others_experiments(client: Client) -> None:
    await _create(client, _experiment(), tenant="acme")
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await client.stub.Assign(
            pb.AssignRequest(experiment_id="tone", user_id="u1"),
            metadata=client.tenant("globex"),
            timeout=5,
        )
    assert exc.value.code() is grpc.StatusCode.NOT_FOUND
    listed = await client.stub.ListExperiments(
        pb.ListExperimentsRequest(), metadata=client.tenant("globex"), timeout=5
    )
    assert list(listed.experiments) == []
    # The same id is free in another tenant.
    await _create(client, _experiment(), tenant="globex")


async def _thumbs(client: Client, tenths: dict[str, int], users: int) -> None:
    """Assign ``users`` users; in each arm, ``tenths[arm]`` of every ten say thumbs-up."""
    meta = client.tenant("acme")
    ids = [f"user-{i}" for i in range(users)]
    response = await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=ids), metadata=meta, timeout=30
    )
    counters = dict.fromkeys(tenths, 0)
    outcomes = []
    for a in response.assignments:
        counters[a.variant] += 1
        value = 1.0 if counters[a.variant] % 10 < tenths[a.variant] else 0.0
        outcomes.append(
            pb.Outcome(
                experiment_id="tone",
                variant=a.variant,
                user_id=a.user_id,
                metric="thumbs_up",
                value=value,
            )
        )
    recorded = await client.stub.RecordOutcomes(
        pb.RecordOutcomesRequest(outcomes=outcomes), metadata=meta, timeout=30
    )
    assert recorded.recorded == users


async def test_results_call_a_real_difference_once_samples_suffice(client: Client) -> None:
    await _create(client, _experiment())
    await _thumbs(client, {"control": 2, "friendly": 3}, users=3000)
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=client.tenant("acme"), timeout=30
    )
    assert results.metric.name == "thumbs_up"
    assert results.control_variant == "control"
    assert [v.variant for v in results.variants] == ["control", "friendly"]
    control, friendly = results.variants
    assert control.n + friendly.n == 3000
    assert control.exposures == control.n
    assert control.mean == pytest.approx(0.20, abs=0.002)
    assert friendly.mean == pytest.approx(0.30, abs=0.002)
    (comparison,) = results.comparisons
    assert comparison.test == "two_proportion_z"
    assert comparison.sample_size_reached
    assert comparison.significant
    assert comparison.sequential_significant
    assert not results.sample_ratio.mismatch
    assert results.verdict.startswith("friendly is better than control")
    smaller = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", min_samples_per_variant=5000),
        metadata=client.tenant("acme"),
        timeout=30,
    )
    assert not smaller.comparisons[0].significant
    assert smaller.verdict.startswith("not enough data")


def _record(
    request_id: str, variant: str, user: str, latency: float, **fields: Any
) -> common_pb2.CallRecord:
    defaults: dict[str, Any] = {
        "experiment_id": "tone",
        "status": common_pb2.CALL_STATUS_SUCCESS,
        "usage": common_pb2.TokenUsage(input_tokens=100, output_tokens=20),
    }
    return common_pb2.CallRecord(
        request_id=request_id,
        variant=variant,
        user_id=user,
        latency_ms=latency,
        **{**defaults, **fields},
    )


async def test_call_outcomes_are_idempotent_and_feed_automatic_metrics(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    records = [
        _record(
            str(uuid.uuid4()),
            "control" if i % 2 else "friendly",
            f"u{i}",
            400.0 + (i % 2) * 100 + i % 7,
            billed_cost=common_pb2.Money(currency_code="USD", amount_micros=1500),
            status=common_pb2.CALL_STATUS_ERROR if i % 10 == 0 else common_pb2.CALL_STATUS_SUCCESS,
        )
        for i in range(200)
    ]
    ignored = [
        _record(str(uuid.uuid4()), "nope", "u1", 1.0),
        common_pb2.CallRecord(request_id=str(uuid.uuid4()), latency_ms=1.0),
        _record(str(uuid.uuid4()), "control", "u1", 1.0, experiment_id="other"),
    ]
    first = await client.stub.RecordCallOutcomes(
        pb.RecordCallOutcomesRequest(records=records + ignored), metadata=meta, timeout=10
    )
    assert (first.recorded, first.duplicates, first.ignored) == (200, 0, 3)
    replay = await client.stub.RecordCallOutcomes(
        pb.RecordCallOutcomesRequest(records=records[:50]), metadata=meta, timeout=10
    )
    assert (replay.recorded, replay.duplicates, replay.ignored) == (0, 50, 0)
    latency = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="latency_ms", min_samples_per_variant=50),
        metadata=meta,
        timeout=10,
    )
    assert latency.metric.kind == pb.METRIC_KIND_CONTINUOUS
    assert not latency.metric.higher_is_better
    assert [v.n for v in latency.variants] == [100, 100]
    assert latency.comparisons[0].difference == pytest.approx(-100, abs=5)
    assert latency.comparisons[0].test == "welch_t"
    assert "friendly is better than control on latency_ms" in latency.verdict
    error = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="error"), metadata=meta, timeout=10
    )
    assert error.metric.kind == pb.METRIC_KIND_PROPORTION
    assert [v.mean for v in error.variants] == [0.0, 0.2]
    cost = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="cost_micros"), metadata=meta, timeout=10
    )
    assert [v.mean for v in cost.variants] == [1500, 1500]


async def test_call_outcomes_with_impossible_numbers_are_ignored_not_stored(
    client: Client,
) -> None:
    # A NaN latency failed the whole batch on SQLite (NOT NULL) and made every later
    # latency result NaN on PostgreSQL.
    meta = client.tenant("acme")
    await _create(client, _experiment())
    records = [
        _record("good", "control", "u1", 100.0),
        _record("nan", "control", "u2", math.nan),
        _record("inf", "friendly", "u3", math.inf),
        _record("negative", "friendly", "u4", -5.0),
    ]
    response = await client.stub.RecordCallOutcomes(
        pb.RecordCallOutcomesRequest(records=records), metadata=meta, timeout=10
    )
    assert (response.recorded, response.duplicates, response.ignored) == (1, 0, 3)
    latency = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="latency_ms"), metadata=meta, timeout=10
    )
    assert [(v.n, v.mean) for v in latency.variants] == [(1, 100.0), (0, 0.0)]


async def test_call_outcomes_with_a_nul_are_ignored_or_kept_never_internal(
    client: Client,
) -> None:
    # PostgreSQL text cannot hold NUL: either one failed the whole batch INTERNAL there.
    meta = client.tenant("acme")
    await _create(client, _experiment())
    records = [
        _record("good", "control", "u1", 100.0),
        _record("bad\x00id", "control", "u2", 100.0),
        _record("nul-user", "friendly", "u\x003", 100.0),
    ]
    response = await client.stub.RecordCallOutcomes(
        pb.RecordCallOutcomesRequest(records=records), metadata=meta, timeout=10
    )
    assert (response.recorded, response.duplicates, response.ignored) == (2, 0, 1)


async def test_buffered_exposures_are_written_on_graceful_shutdown(database_url: str) -> None:
    settings = _settings(database_url, exposure_flush_interval_seconds=3600.0)
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
        await _create(Client(stub, database_url), _experiment())
        await stub.AssignBatch(
            pb.AssignBatchRequest(experiment_id="tone", user_ids=[f"u{i}" for i in range(300)]),
            metadata=(("x-llmops-tenant", "acme"),),
            timeout=10,
        )
    store = ExperimentStore(create_engine(database_url))
    try:
        assert sum(store.exposure_counts("acme", "tone", 1).values()) == 300
    finally:
        store.close()


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([], "experiment.variants"),
        (
            [pb.Variant(name="a", weight=1), pb.Variant(name="b", weight=0)],
            "experiment.variants[1].weight",
        ),
        ([pb.Variant(name="a", weight=-1)], "experiment.variants[0].weight"),
    ],
)
async def test_bad_weights_are_invalid_argument_naming_the_field(
    client: Client, variants: list[pb.Variant], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await _create(client, _experiment(variants=variants))
    assert _error(exc) == (grpc.StatusCode.INVALID_ARGUMENT, field)


async def test_bad_requests_get_canonical_codes_naming_the_field(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    calls: list[tuple[Any, Any, tuple[grpc.StatusCode, str]]] = [
        (
            client.stub.GetExperiment,
            pb.GetExperimentRequest(id="missing"),
            (grpc.StatusCode.NOT_FOUND, ""),
        ),
        (
            client.stub.Assign,
            pb.AssignRequest(experiment_id="missing", user_id="u"),
            (grpc.StatusCode.NOT_FOUND, ""),
        ),
        (
            client.stub.Assign,
            pb.AssignRequest(experiment_id="tone", user_id=""),
            (grpc.StatusCode.INVALID_ARGUMENT, "user_id"),
        ),
        (
            client.stub.AssignBatch,
            pb.AssignBatchRequest(experiment_id="tone", user_ids=["ok", ""]),
            (grpc.StatusCode.INVALID_ARGUMENT, "user_ids[1]"),
        ),
        (
            client.stub.RecordOutcomes,
            pb.RecordOutcomesRequest(
                outcomes=[
                    pb.Outcome(
                        experiment_id="tone", variant="control", user_id="u", metric="m", value=1
                    ),
                    pb.Outcome(
                        experiment_id="tone", variant="ghost", user_id="u", metric="m", value=1
                    ),
                ]
            ),
            (grpc.StatusCode.INVALID_ARGUMENT, "outcomes[1].variant"),
        ),
        (
            client.stub.RecordOutcomes,
            pb.RecordOutcomesRequest(
                outcomes=[pb.Outcome(experiment_id="missing", variant="a", user_id="u", metric="m")]
            ),
            (grpc.StatusCode.NOT_FOUND, ""),
        ),
        (
            client.stub.GetResults,
            pb.GetResultsRequest(experiment_id="tone", alpha=1.5),
            (grpc.StatusCode.INVALID_ARGUMENT, "alpha"),
        ),
        (
            client.stub.GetResults,
            pb.GetResultsRequest(experiment_id="tone", metric="bad metric!"),
            (grpc.StatusCode.INVALID_ARGUMENT, "metric"),
        ),
        (
            client.stub.ListExperiments,
            pb.ListExperimentsRequest(page_token="garbage"),
            (grpc.StatusCode.INVALID_ARGUMENT, "page_token"),
        ),
        (
            client.stub.UpdateExperiment,
            pb.UpdateExperimentRequest(
                experiment=pb.Experiment(id="tone"),
                update_mask=field_mask_pb2.FieldMask(paths=["id"]),
            ),
            (grpc.StatusCode.INVALID_ARGUMENT, "update_mask"),
        ),
        (
            client.stub.CreateExperiment,
            pb.CreateExperimentRequest(experiment=_experiment()),
            (grpc.StatusCode.ALREADY_EXISTS, ""),
        ),
        (
            client.stub.CreateExperiment,
            pb.CreateExperimentRequest(experiment=_experiment("x", status=42)),
            (grpc.StatusCode.INVALID_ARGUMENT, "experiment.status"),
        ),
    ]
    for method, request, expected in calls:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await method(request, metadata=meta, timeout=5)
        assert _error(exc) == expected, request
    # Nothing above wedged the server or stored half a batch.
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="m"), metadata=meta, timeout=5
    )
    assert sum(v.n for v in results.variants) == 0


async def test_a_nul_in_a_user_id_is_refused_and_never_poisons_the_exposure_buffer(
    client: Client,
) -> None:
    # PostgreSQL text cannot hold NUL: a buffered exposure with one failed every flush
    # of its batch for good, so exposures stopped being written and Assign blocked.
    meta = client.tenant("acme")
    await _create(client, _experiment())
    calls: list[tuple[Any, Any, str]] = [
        (client.stub.Assign, pb.AssignRequest(experiment_id="tone", user_id="u\x00"), "user_id"),
        (
            client.stub.AssignBatch,
            pb.AssignBatchRequest(experiment_id="tone", user_ids=["ok", "u\x00"]),
            "user_ids[1]",
        ),
        (
            client.stub.RecordOutcomes,
            pb.RecordOutcomesRequest(
                outcomes=[
                    pb.Outcome(experiment_id="tone", variant="control", user_id="u\x00", metric="m")
                ]
            ),
            "outcomes[0].user_id",
        ),
    ]
    for method, request, field in calls:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await method(request, metadata=meta, timeout=5)
        assert _error(exc) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    await client.stub.Assign(
        pb.AssignRequest(experiment_id="tone", user_id="fine"), metadata=meta, timeout=5
    )
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone", metric="m"), metadata=meta, timeout=5
    )
    assert sum(v.exposures for v in results.variants) == 1


async def test_forged_page_tokens_are_invalid_argument(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    for document in ([2**70, "tone"], [1, "to\x00ne"]):
        token = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await client.stub.ListExperiments(
                pb.ListExperimentsRequest(page_token=token), metadata=meta, timeout=5
            )
        assert _error(exc) == (grpc.StatusCode.INVALID_ARGUMENT, "page_token"), document


async def test_sample_ratio_mismatch_fires_when_exposures_go_missing(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=[f"u{i}" for i in range(4000)]),
        metadata=meta,
        timeout=30,
    )
    fair = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=meta, timeout=10
    )
    assert sum(v.exposures for v in fair.variants) == 4000
    assert not fair.sample_ratio.mismatch
    # Lose a fifth of one arm's exposure log (users ending in 3 or 7), as a broken
    # logger would.
    last_digit = sa.func.substr(exposures.c.user_id, sa.func.length(exposures.c.user_id), 1)
    engine = create_engine(client.database_url)
    with engine.begin() as connection:
        connection.execute(
            exposures.delete().where(exposures.c.variant == "friendly", last_digit.in_(["3", "7"]))
        )
    engine.dispose()
    skewed = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=meta, timeout=10
    )
    assert skewed.sample_ratio.mismatch
    assert skewed.sample_ratio.p_value < 0.001
    assert skewed.verdict.startswith("sample ratio mismatch")


async def test_a_new_version_starts_results_afresh(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment())
    await _thumbs(client, {"control": 2, "friendly": 3}, users=200)
    await client.stub.UpdateExperiment(
        pb.UpdateExperimentRequest(
            experiment=pb.Experiment(
                id="tone",
                variants=[
                    pb.Variant(name="control", weight=1),
                    pb.Variant(name="friendly", weight=3),
                ],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["variants"]),
            new_version=True,
        ),
        metadata=meta,
        timeout=5,
    )
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=meta, timeout=10
    )
    assert [(v.n, v.exposures) for v in results.variants] == [(0, 0), (0, 0)]
    await _thumbs(client, {"control": 2, "friendly": 3}, users=400)
    results = await client.stub.GetResults(
        pb.GetResultsRequest(experiment_id="tone"), metadata=meta, timeout=10
    )
    control, friendly = results.variants
    assert control.n + friendly.n == 400
    assert friendly.exposures > 2 * control.exposures
    assert not results.sample_ratio.mismatch


async def test_weights_edited_in_draft_apply_once_it_runs(client: Client) -> None:
    meta = client.tenant("acme")
    await _create(client, _experiment(status=pb.EXPERIMENT_STATUS_DRAFT))
    users = [f"u{i}" for i in range(2000)]
    draft = await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=users), metadata=meta, timeout=10
    )
    assert {a.variant for a in draft.assignments} == {"control"}
    updated = await client.stub.UpdateExperiment(
        pb.UpdateExperimentRequest(
            experiment=pb.Experiment(
                id="tone",
                status=RUNNING,
                variants=[
                    pb.Variant(name="control", weight=1),
                    pb.Variant(name="friendly", weight=9),
                ],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["variants", "status"]),
        ),
        metadata=meta,
        timeout=5,
    )
    assert updated.experiment.version == 1
    running = await client.stub.AssignBatch(
        pb.AssignBatchRequest(experiment_id="tone", user_ids=users), metadata=meta, timeout=10
    )
    share = sum(a.variant == "friendly" for a in running.assignments) / len(users)
    assert 0.87 < share < 0.93
