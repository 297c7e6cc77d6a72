"""The design's flow end to end in process: LogSink stores records and forwards them
to the real CostService, whose ledger and budgets follow, on SQLite and PostgreSQL
(both services sharing one database, each with its own migrations)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
from llmops.v1 import common_pb2, cost_pb2, cost_pb2_grpc

from services.common.server import running_server
from services.cost.servicer import SPEC
from services.cost.settings import CostSettings
from tests.service.logsink_support import batch, logsink, make_settings, record

ACME = (("x-llmops-tenant", "acme"),)


async def test_records_streamed_to_logsink_reach_ledger_and_budgets(
    database_url: str, tmp_path: Path
) -> None:
    cost_settings = CostSettings(
        database_url=database_url,
        tiktoken_cache_dir=tmp_path / "tiktoken",
        budget_refresh_seconds=0,
    )
    async with (
        running_server(SPEC, cost_settings) as cost,
        grpc.aio.insecure_channel(f"127.0.0.1:{cost.port}") as channel,
    ):
        stub = cost_pb2_grpc.CostServiceStub(channel)
        await stub.CreateBudget(
            cost_pb2.CreateBudgetRequest(
                budget=cost_pb2.Budget(
                    name="alice",
                    dimension=cost_pb2.SPEND_DIMENSION_USER,
                    value="alice",
                    window=cost_pb2.BudgetWindow(
                        kind=cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS, length=1
                    ),
                    limit=common_pb2.Money(currency_code="USD", amount_micros=20_000),
                    alert_thresholds_percent=[50],
                )
            ),
            metadata=ACME,
            timeout=10,
        )
        sink_settings = make_settings(
            database_url,
            "local",
            tmp_path,
            None,
            cost_address=f"127.0.0.1:{cost.port}",
            forward_interval_seconds=0.1,
            forward_max_backoff_seconds=0.2,
        )
        now = int(time.time())
        # gpt-4o, 1,000 input + 500 output tokens: 1,000 x 2.50 + 500 x 10.00 per M = 7,500
        records = [
            record(
                model="gpt-4o", input_tokens=1_000, output_tokens=500, seconds=now, user_id="alice"
            )
            for _ in range(3)
        ]
        async with logsink(sink_settings) as sink:
            await sink.stream([batch("b1", records)], tenant="acme")
            await sink.stream([batch("replay", records)], tenant="acme")
            check = cost_pb2.CheckBudgetRequest(model="gpt-4o", user_id="alice")
            for _ in range(600):  # up to 30 s on a loaded machine
                response = await stub.CheckBudget(check, metadata=ACME, timeout=5)
                if response.decision == cost_pb2.BUDGET_DECISION_DENY:
                    break
                await asyncio.sleep(0.05)
            assert response.decision == cost_pb2.BUDGET_DECISION_DENY
            assert response.budgets[0].spent.amount_micros == 22_500
        spend = await stub.QuerySpend(cost_pb2.QuerySpendRequest(), metadata=ACME, timeout=10)
        assert spend.total_cost.amount_micros == 22_500
        assert spend.rows[0].calls == 3
