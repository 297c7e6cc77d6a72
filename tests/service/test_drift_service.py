"""DriftService over real gRPC, with the real model, databases and object stores."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from llmops.v1 import common_pb2, drift_pb2, drift_pb2_grpc, logsink_pb2_grpc
from prometheus_client import REGISTRY

from services.common.server import running_server
from services.drift.servicer import SPEC
from services.drift.settings import DriftSettings
from services.logsink.servicer import SPEC as LOGSINK_SPEC
from tests.conftest import S3Server
from tests.fixtures import drift_corpus as corpus
from tests.service import logsink_support

TIMEOUT = 120
SHIFTED = {"cooking": 1.0}


def _settings(
    database_url: str, tmp_path: Path, s3_server: S3Server, **overrides: Any
) -> DriftSettings:
    """SQLite with a local folder, PostgreSQL with S3, as the two deployments use them."""
    if database_url.startswith("sqlite"):
        store: dict[str, Any] = {"object_store": f"file:{tmp_path / 'drift-objects'}"}
    else:
        store = {
            "object_store": f"s3://drift-{uuid.uuid4().hex[:12]}",
            "s3_endpoint": s3_server.endpoint,
            "s3_access_key": s3_server.access_key,
            "s3_secret_key": s3_server.secret_key,
            "s3_region": s3_server.region,
        }
    return dataclasses.replace(
        DriftSettings(), database_url=database_url, drift_window_size=200, **store, **overrides
    )


@asynccontextmanager
async def drift_server(settings: DriftSettings) -> AsyncIterator[drift_pb2_grpc.DriftServiceStub]:
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield drift_pb2_grpc.DriftServiceStub(channel)


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def _tenant(name: str) -> tuple[tuple[str, str], ...]:
    return (("x-llmops-tenant", name),)


def _error(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(exc)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return info


async def _observe_concurrently(
    stub: drift_pb2_grpc.DriftServiceStub,
    monitor: str,
    texts: list[str],
    per_call: int,
    tenant: str,
) -> None:
    calls = [
        stub.Observe(
            drift_pb2.ObserveRequest(monitor_id=monitor, texts=texts[i : i + per_call]),
            metadata=_tenant(tenant),
            timeout=TIMEOUT,
        )
        for i in range(0, len(texts), per_call)
    ]
    responses = await asyncio.gather(*calls)
    assert sum(r.accepted for r in responses) == len(texts)


async def _check_drift_flow(settings: DriftSettings, monitor: str, tenant: str) -> None:
    """Same mix passes, shifted window alarms, and the verdict survives a restart."""
    md = _tenant(tenant)
    async with drift_server(settings) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as too_early:
            await stub.CheckDrift(
                drift_pb2.CheckDriftRequest(monitor_id=monitor), metadata=md, timeout=TIMEOUT
            )
        assert too_early.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert _error(too_early.value).metadata["needed"] == "50"
        # 15 concurrent RPCs of 10 texts: the micro-batcher serves them together.
        batches_before = _sample("llmops_drift_embedding_batch_texts_count")
        same_mix = corpus.sample(corpus.BASELINE_MIX, 150, 2)
        await _observe_concurrently(stub, monitor, same_mix, 10, tenant)
        batches = _sample("llmops_drift_embedding_batch_texts_count") - batches_before
        assert 3 <= batches < 15  # at most 64 texts a batch, fewer batches than calls
        same = await stub.CheckDrift(
            drift_pb2.CheckDriftRequest(monitor_id=monitor), metadata=md, timeout=TIMEOUT
        )
        assert not same.drifted, same
        assert same.p_value > same.alpha
        assert same.distance < same.distance_threshold
        assert (same.baseline_size, same.window_size) == (500, 150)
        assert same.test == "mmd_permutation"
        assert same.alpha == pytest.approx(0.01)
        assert len(same.baseline_examples) == 3
        assert all(e.distance >= 0 for e in same.window_examples)

        scores = await stub.ScoreTexts(
            drift_pb2.ScoreTextsRequest(
                monitor_id=monitor,
                texts=[
                    corpus.sample(corpus.BASELINE_MIX, 1, 99)[0],
                    "",
                    corpus.sample(SHIFTED, 1, 98)[0],
                ],
            ),
            metadata=md,
            timeout=TIMEOUT,
        )
        usual, empty, unusual = scores.distances
        assert usual < scores.outlier_threshold < unusual
        assert empty == 0.0

        shifted = corpus.sample(SHIFTED, 75, 3) + corpus.refusals(corpus.BASELINE_MIX, 75, 4)
        observed = await stub.Observe(
            drift_pb2.ObserveRequest(monitor_id=monitor, texts=shifted),
            metadata=md,
            timeout=TIMEOUT,
        )
        assert observed.window_size == 200  # the ring keeps the newest 200
        first = await stub.CheckDrift(
            drift_pb2.CheckDriftRequest(monitor_id=monitor, alpha=0.05),
            metadata=md,
            timeout=TIMEOUT,
        )
        assert first.drifted, first
        assert first.p_value < 0.05
        assert first.distance > first.distance_threshold
        assert first.window_size == 200

    labels = {"tenant": tenant, "monitor": monitor}
    assert REGISTRY.get_sample_value("llmops_drift_distance", labels) == pytest.approx(
        first.distance
    )

    async with drift_server(settings) as stub:
        monitor_state = (
            await stub.GetMonitor(
                drift_pb2.GetMonitorRequest(monitor_id=monitor), metadata=md, timeout=TIMEOUT
            )
        ).monitor
        assert monitor_state.last_check == first
        assert (monitor_state.baseline_size, monitor_state.window_size) == (500, 200)
        again = await stub.CheckDrift(
            drift_pb2.CheckDriftRequest(monitor_id=monitor, alpha=0.05),
            metadata=md,
            timeout=TIMEOUT,
        )
        assert again.drifted
        assert again.distance == first.distance
        assert again.p_value == first.p_value
        assert [e.text for e in again.window_examples] == [e.text for e in first.window_examples]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_drift_flow_with_a_baseline_from_texts(
    database_url: str, tmp_path: Path, s3_server: S3Server
) -> None:
    settings = _settings(database_url, tmp_path, s3_server)
    texts = corpus.sample(corpus.BASELINE_MIX, 500, 1)
    async with drift_server(settings) as stub:
        response = await stub.SetBaseline(
            drift_pb2.SetBaselineRequest(
                monitor_id="gpt-4o/support@v1",
                texts=drift_pb2.BaselineTexts(texts=[*texts, "", "   "]),
            ),
            timeout=TIMEOUT,
        )
    assert response.skipped_empty == 2
    assert response.monitor.baseline_size == 500
    assert response.monitor.window_capacity == 200
    assert 0 < response.monitor.distance_threshold < 0.1
    await _check_drift_flow(settings, "gpt-4o/support@v1", "default")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_drift_flow_with_a_baseline_from_real_logsink_records(
    database_url: str, tmp_path: Path, s3_server: S3Server
) -> None:
    sink_settings = logsink_support.make_settings(database_url, "local", tmp_path / "sink", None)
    texts = corpus.sample(corpus.BASELINE_MIX, 500, 1)
    wanted = [
        logsink_support.record(
            model="gpt-4o",
            prompt_template="support@v1",
            response_text=text,
            seconds=1_780_000_000 + i,
        )
        for i, text in enumerate(texts)
    ]
    # Records the selection must leave out: another template, a failed call.
    others = [
        logsink_support.record(model="gpt-4o", prompt_template="other@v1", response_text="no"),
        logsink_support.record(
            model="gpt-4o",
            prompt_template="support@v1",
            status=common_pb2.CALL_STATUS_ERROR,
            response_text="partial answer",
            error_type="timeout",
            error_message="timed out",
        ),
    ]
    async with (
        running_server(LOGSINK_SPEC, sink_settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        batches = [
            logsink_support.batch(str(i), wanted[i : i + 100]) for i in range(0, 500, 100)
        ] + [logsink_support.batch("others", others)]
        call = logsink_pb2_grpc.LogSinkServiceStub(channel).StreamRecords(
            iter(batches), metadata=_tenant("acme"), timeout=TIMEOUT
        )
        acks = [ack async for ack in call]
        assert sum(ack.stored for ack in acks) == 502
        settings = _settings(
            database_url,
            tmp_path,
            s3_server,
            drift_logsink_address=f"127.0.0.1:{built.port}",
        )
        async with drift_server(settings) as stub:
            response = await stub.SetBaseline(
                drift_pb2.SetBaselineRequest(
                    monitor_id="gpt-4o/support@v1",
                    records=drift_pb2.RecordSelection(model="gpt-4o", prompt_template="support@v1"),
                ),
                metadata=_tenant("acme"),
                timeout=TIMEOUT,
            )
            assert response.monitor.baseline_size == 500
            # The records belong to acme: the default tenant has none.
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.SetBaseline(
                    drift_pb2.SetBaselineRequest(
                        monitor_id="gpt-4o/support@v1",
                        records=drift_pb2.RecordSelection(model="gpt-4o"),
                    ),
                    timeout=TIMEOUT,
                )
            assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
            assert _error(refused.value).metadata["needed"] == "500"
        await _check_drift_flow(settings, "gpt-4o/support@v1", "acme")


async def test_a_redelivered_batch_is_counted_once_and_not_embedded_again(
    database_url: str, tmp_path: Path, s3_server: S3Server
) -> None:
    settings = _settings(database_url, tmp_path, s3_server)
    monitor = "gpt-4o/support@v1"
    texts = corpus.sample(corpus.BASELINE_MIX, 5, 7)
    batch = drift_pb2.ObserveRequest(
        monitor_id=monitor,
        texts=[*texts, ""],
        request_ids=[*(f"req-{i}" for i in range(5)), "req-empty"],
    )
    before = _sample("llmops_drift_embedding_batch_texts_sum")
    async with drift_server(settings) as stub:
        first = await stub.Observe(batch, timeout=TIMEOUT)
    embedded = _sample("llmops_drift_embedding_batch_texts_sum")
    assert embedded - before == 5
    # LogSink redelivers after a crash: a new process, the same request.
    async with drift_server(settings) as stub:
        again = await stub.Observe(batch, timeout=TIMEOUT)
        # Duplicates never reach the model.
        assert _sample("llmops_drift_embedding_batch_texts_sum") == embedded
        mixed = await stub.Observe(
            drift_pb2.ObserveRequest(
                monitor_id=monitor,
                texts=[texts[0], "a new answer", "a new answer", "no id"],
                request_ids=["req-0", "req-new", "req-new", ""],
            ),
            timeout=TIMEOUT,
        )
        window = (
            await stub.GetMonitor(drift_pb2.GetMonitorRequest(monitor_id=monitor), timeout=TIMEOUT)
        ).monitor.window_size

    assert (first.accepted, first.skipped_empty, first.duplicates, first.window_size) == (
        5,
        1,
        0,
        5,
    )
    assert (again.accepted, again.skipped_empty, again.duplicates, again.window_size) == (
        0,
        1,
        5,
        5,
    )
    # Within one request too; a text without an id is always added.
    assert (mixed.accepted, mixed.duplicates, mixed.window_size) == (2, 2, 7)
    assert window == 7
