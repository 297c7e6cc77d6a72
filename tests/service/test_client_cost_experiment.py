"""The wrapper with the real CostService (budgets, token counts) and ExperimentService."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import openai
import pytest
from llmops import BudgetExceeded, Monitor
from llmops.testing.openai_server import FakeOpenAIServer
from llmops.v1 import (
    common_pb2,
    cost_pb2,
    cost_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
)

from services.common.server import running_server
from services.cost.servicer import SPEC as COST
from services.cost.settings import CostSettings
from services.experiment.servicer import SPEC as EXPERIMENT
from services.experiment.settings import ExperimentSettings
from tests.support.client_peers import PeerLogSink, PeerServer

ACME = (("x-llmops-tenant", "acme"),)


@dataclass
class Services:
    cost: cost_pb2_grpc.CostServiceStub
    experiment: experiment_pb2_grpc.ExperimentServiceStub
    monitor: Monitor
    sink: PeerLogSink
    llm: FakeOpenAIServer


@pytest.fixture
async def services(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    cost_settings = CostSettings(
        database_url=database_url,
        tiktoken_cache_dir=tmp_path / "tiktoken",
        budget_refresh_seconds=0,
    )
    sink = PeerLogSink()
    peers = PeerServer(logsink=sink).start()
    async with (
        running_server(COST, cost_settings) as cost,
        running_server(EXPERIMENT, ExperimentSettings(database_url=database_url)) as exp,
        grpc.aio.insecure_channel(f"127.0.0.1:{cost.port}") as cost_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{exp.port}") as exp_channel,
    ):
        monitor = Monitor(
            cost=f"127.0.0.1:{cost.port}",
            experiment=f"127.0.0.1:{exp.port}",
            logsink=peers.target,
            tenant="acme",
            guard_timeout=5.0,
            rpc_timeout=5.0,
            spool_dir=tmp_path / "spool",
            shipper_options={"interval": 0.05},
        )
        with FakeOpenAIServer() as llm:
            yield Services(
                cost_pb2_grpc.CostServiceStub(cost_channel),
                experiment_pb2_grpc.ExperimentServiceStub(exp_channel),
                monitor,
                sink,
                llm,
            )
        await asyncio.to_thread(monitor.close, 5)
    peers.stop()


def seed_assign(experiment_id: str, user_id: str, variants: list[tuple[str, float]]) -> str:
    """The design card's assignment, transcribed independently of the service."""
    h = hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest()
    bucket = int(h[:8], 16) / 0xFFFFFFFF
    total = sum(w for _, w in variants)
    cumulative = 0.0
    for name, weight in variants:
        cumulative += weight / total
        if bucket <= cumulative:
            return name
    return variants[-1][0]


async def shipped(services: Services) -> list[common_pb2.CallRecord]:
    assert await asyncio.to_thread(services.monitor.flush, 15)
    return list(services.sink.records.values())


async def test_variants_from_the_real_experiment_service_render_and_are_recorded(
    services: Services,
) -> None:
    variants = [("control", 1.0), ("friendly", 1.0)]
    await services.experiment.CreateExperiment(
        experiment_pb2.CreateExperimentRequest(
            experiment=experiment_pb2.Experiment(
                id="tone",
                variants=[
                    experiment_pb2.Variant(
                        name="control",
                        prompt_template="answer@v1",
                        template_text="ECHO: {q}",
                        weight=1,
                    ),
                    experiment_pb2.Variant(
                        name="friendly",
                        prompt_template="answer@v2",
                        template_text="ECHO: Hi! {q}",
                        weight=1,
                    ),
                ],
                status=experiment_pb2.EXPERIMENT_STATUS_RUNNING,
                primary_metric=experiment_pb2.MetricSpec(name="thumbs_up"),
            )
        ),
        metadata=ACME,
        timeout=10,
    )
    client = services.monitor.wrap(
        openai.OpenAI(base_url=services.llm.base_url, api_key="t", max_retries=0)
    )
    users = [f"user-{i}" for i in range(12)]

    def ask(user_id: str) -> Any:
        return client.chat.completions.create(
            model="fake-1",
            messages=[{"role": "user", "content": "unused"}],
            llmops_experiment="tone",
            llmops_user_id=user_id,
            llmops_variables={"q": "where is my order?"},
        )

    answers = {u: (await asyncio.to_thread(ask, u)).choices[0].message.content for u in users}
    expected = {u: seed_assign("tone", u, variants) for u in users}
    assert len(set(expected.values())) == 2, "the users cover both variants"
    for u in users:
        greeting = "Hi! " if expected[u] == "friendly" else ""
        assert answers[u] == f"{greeting}where is my order?"
    for u in users[:4]:
        await asyncio.to_thread(services.monitor.record_outcome, "tone", u, "thumbs_up", 1.0)
    results = await services.experiment.GetResults(
        experiment_pb2.GetResultsRequest(experiment_id="tone"), metadata=ACME, timeout=10
    )
    assert results.metric.name == "thumbs_up"
    counted = {v.variant: v.n for v in results.variants}
    assert counted == {name: sum(expected[u] == name for u in users[:4]) for name, _ in variants}
    by_user = {r.user_id: r for r in await shipped(services)}
    for u in users:
        assert by_user[u].experiment_id == "tone"
        assert by_user[u].variant == expected[u]
        assert by_user[u].prompt_template == (
            "answer@v2" if expected[u] == "friendly" else "answer@v1"
        )


class _NoUsage:
    """A duck-typed client that reports no usage, so the wrapper must count."""

    def __init__(self) -> None:
        self.chat = self
        self.completions = self

    def create(self, **kwargs: Any) -> Any:
        return {"choices": [{"index": 0, "message": {"content": "four short words"}}]}


async def test_real_cost_service_denies_over_budget_and_counts_missing_usage(
    services: Services,
) -> None:
    await services.cost.CreateBudget(
        cost_pb2.CreateBudgetRequest(
            budget=cost_pb2.Budget(
                name="mini-cap",
                dimension=cost_pb2.SPEND_DIMENSION_MODEL,
                value="gpt-4o-mini",
                window=cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH),
                limit=common_pb2.Money(currency_code="USD", amount_micros=1_000),
            )
        ),
        metadata=ACME,
        timeout=10,
    )
    spent = common_pb2.CallRecord(
        request_id="spend-1",
        model="gpt-4o-mini",
        status=common_pb2.CALL_STATUS_SUCCESS,
        usage=common_pb2.TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000),
    )
    spent.timestamp.GetCurrentTime()
    await services.cost.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[spent]), metadata=ACME, timeout=10
    )
    client = services.monitor.wrap(
        openai.OpenAI(base_url=services.llm.base_url, api_key="t", max_retries=0)
    )

    def over_budget() -> None:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    with pytest.raises(BudgetExceeded) as denied:
        await asyncio.to_thread(over_budget)
    assert [s.budget.name for s in denied.value.budgets] == ["mini-cap"]
    assert services.llm.llm.requests == 0

    counted = services.monitor.wrap(_NoUsage())
    await asyncio.to_thread(
        counted.chat.completions.create,
        model="gpt-4o",
        messages=[{"role": "user", "content": "How many tokens is this?"}],
    )
    by_model = {r.model: r for r in await shipped(services)}
    assert by_model["gpt-4o-mini"].error_type == "BudgetExceeded"
    estimate = by_model["gpt-4o"].usage
    assert estimate.estimated
    assert estimate.output_tokens == 3
    assert estimate.input_tokens > 6
