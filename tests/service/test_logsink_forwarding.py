"""Outbox forwarding to real in-process Cost/Experiment/Drift gRPC peers, and LLM metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from llmops.v1 import (
    common_pb2,
    cost_pb2,
    cost_pb2_grpc,
    drift_pb2,
    drift_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    logsink_pb2,
)
from prometheus_client import REGISTRY

from tests.service.logsink_support import batch, logsink, make_settings, record


@dataclass
class Peer:
    """What the test peers received, and failures they should answer with first."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    fail_with: list[grpc.StatusCode] = field(default_factory=list)
    attempts: int = 0

    async def receive(self, name: str, request: Any, context: grpc.aio.ServicerContext) -> None:
        self.attempts += 1
        if self.fail_with:
            await context.abort(self.fail_with.pop(0), "injected failure")
        tenant = dict(context.invocation_metadata() or ()).get("x-llmops-tenant", "")
        self.calls.append((name, tenant, request))

    def of(self, name: str) -> list[tuple[str, Any]]:
        return [(tenant, request) for n, tenant, request in self.calls if n == name]


class CostPeer(cost_pb2_grpc.CostServiceServicer):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def RecordSpend(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self.peer.receive("cost", request, context)
        return cost_pb2.RecordSpendResponse(recorded=len(request.records))


class ExperimentPeer(experiment_pb2_grpc.ExperimentServiceServicer):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def RecordCallOutcomes(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self.peer.receive("experiment", request, context)
        return experiment_pb2.RecordCallOutcomesResponse(recorded=len(request.records))


class DriftPeer(drift_pb2_grpc.DriftServiceServicer):
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def Observe(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await self.peer.receive("drift", request, context)
        return drift_pb2.ObserveResponse(accepted=len(request.texts))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def peers(peer: Peer, port: int = 0) -> AsyncIterator[str]:
    """Cost, Experiment and Drift servicers on one loopback server; yields its address."""
    server = grpc.aio.server()
    cost_pb2_grpc.add_CostServiceServicer_to_server(CostPeer(peer), server)
    experiment_pb2_grpc.add_ExperimentServiceServicer_to_server(ExperimentPeer(peer), server)
    drift_pb2_grpc.add_DriftServiceServicer_to_server(DriftPeer(peer), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield f"127.0.0.1:{bound}"
    finally:
        await server.stop(0)


async def _until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def _forwarding(address: str, **overrides: Any) -> dict[str, Any]:
    return {
        "cost_address": address,
        "experiment_address": address,
        "drift_address": address,
        "drift_sample_rate": 1.0,
        "forward_interval_seconds": 0.1,
        "forward_max_backoff_seconds": 0.2,
        **overrides,
    }


async def test_stored_records_are_forwarded_to_each_target_once(
    database_url: str, tmp_path: Path
) -> None:
    peer = Peer()
    async with peers(peer) as address:
        settings = make_settings(database_url, "local", tmp_path, None, **_forwarding(address))
        async with logsink(settings) as sink:
            records = [
                record(
                    "p1",
                    prompt_text="q",
                    response_text="answer one",
                    experiment_id="e",
                    variant="A",
                ),
                record("p2", response_text="answer two"),
                record("p3", model="other", prompt_template="t9", response_text="answer three"),
            ]
            await sink.stream([batch("b", records)], tenant="acme")
            await sink.stream([batch("replay", records)], tenant="acme")
            await _until(lambda: len(peer.calls) >= 4)
            await asyncio.sleep(0.3)  # a replay must not cause a second delivery

    [(tenant, spend)] = peer.of("cost")
    assert tenant == "acme"
    assert [r.request_id for r in spend.records] == ["p1", "p2", "p3"]
    assert all(r.prompt_text == "" and r.response_text == "" for r in spend.records)
    [(_, outcomes)] = peer.of("experiment")
    assert [(r.request_id, r.variant) for r in outcomes.records] == [("p1", "A")]
    drift = sorted(
        (request.monitor_id, list(request.texts), list(request.request_ids))
        for _, request in peer.of("drift")
    )
    # The ids let DriftService drop a redelivered text instead of counting it twice.
    assert drift == [
        ("gpt-4o-mini/support-answer@v1", ["answer one", "answer two"], ["p1", "p2"]),
        ("other/t9", ["answer three"], ["p3"]),
    ]


async def test_failed_deliveries_are_retried_and_malformed_ones_dropped(
    database_url: str, tmp_path: Path
) -> None:
    peer = Peer(fail_with=[grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
    async with peers(peer) as address:
        overrides = _forwarding(address, experiment_address="", drift_address="")
        settings = make_settings(database_url, "local", tmp_path, None, **overrides)
        async with logsink(settings) as sink:
            await sink.stream([batch("b", [record("r1")])])
            await _until(lambda: len(peer.of("cost")) == 1)
            assert peer.attempts == 3
            peer.fail_with = [grpc.StatusCode.INVALID_ARGUMENT]
            dropped_before = _sample(
                "logsink_forward_deliveries_total", target="cost", result="dropped"
            )
            await sink.stream([batch("c", [record("r2")])])
            await _until(lambda: peer.attempts == 4)
            await asyncio.sleep(0.5)
            assert peer.attempts == 4  # not retried
            dropped = _sample("logsink_forward_deliveries_total", target="cost", result="dropped")
            assert dropped == dropped_before + 1


async def test_outbox_survives_a_restart_while_the_target_is_down(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    overrides = _forwarding(f"127.0.0.1:{port}", experiment_address="", drift_address="")
    settings = make_settings(database_url, "local", tmp_path, None, **overrides)
    async with logsink(settings) as sink:
        await sink.stream([batch("b", [record(f"r{i}") for i in range(5)])])
        await asyncio.sleep(0.3)  # a few failed attempts against the closed port
    peer = Peer()
    async with peers(peer, port), logsink(settings):
        await _until(lambda: len(peer.of("cost")) == 1)
    [(_, spend)] = peer.of("cost")
    assert [r.request_id for r in spend.records] == [f"r{i}" for i in range(5)]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_llm_metrics_count_each_stored_record_once(database_url: str, tmp_path: Path) -> None:
    model = f"metrics-model-{database_url[:6]}"
    labels = {"model": model, "prompt_template": "tpl"}
    count_before = _sample("llm_call_duration_seconds_count", **labels)
    le_before = _sample("llm_call_duration_seconds_bucket", le="0.25", **labels)
    tokens_before = _sample("llm_tokens_sum", model=model, direction="input")
    errors_before = _sample("llm_errors_total", model=model, error_type="rate_limit")
    timeouts_before = _sample("llm_errors_total", model=model, error_type="timeout")
    records = [
        record("m1", model=model, prompt_template="tpl", latency_ms=100, input_tokens=300),
        record("m2", model=model, prompt_template="tpl", latency_ms=2000, input_tokens=700),
        record(
            "m3",
            model=model,
            prompt_template="tpl",
            latency_ms=400,
            status=common_pb2.CALL_STATUS_ERROR,
            error_type="rate_limit",
        ),
        record("m4", model=model, prompt_template="tpl", status=common_pb2.CALL_STATUS_TIMEOUT),
    ]
    async with logsink(make_settings(database_url, "local", tmp_path, None)) as sink:
        await sink.stream([batch("b", records), batch("replay", records)])
    assert _sample("llm_call_duration_seconds_count", **labels) - count_before == 4
    assert _sample("llm_call_duration_seconds_bucket", le="0.25", **labels) - le_before == 2
    assert _sample("llm_tokens_sum", model=model, direction="input") - tokens_before == 1200
    assert _sample("llm_errors_total", model=model, error_type="rate_limit") - errors_before == 1
    assert _sample("llm_errors_total", model=model, error_type="timeout") - timeouts_before == 1


async def test_metric_labels_are_capped_and_overflow_into_other(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, "local", tmp_path, None, metrics_max_label_values=2)
    async with logsink(settings) as sink:
        before = _sample("llm_tokens_count", model="other", direction="output")
        await sink.stream(
            [batch("b", [record(f"c{i}", model=f"cap-{database_url[:6]}-{i}") for i in range(5)])]
        )
        got = await sink.stub.ListRecords(logsink_pb2.ListRecordsRequest())
        assert len(got.records) == 5  # capping affects labels only, never storage
    # The cap is per server process; the first two new models keep their own series.
    assert _sample("llm_tokens_count", model="other", direction="output") - before == 3
