"""CheckBudget RPC latency against a no-op RPC (grpc health Check) on the same server.

Run: .venv/bin/python bench/cost_check_budget.py [calls]

One in-process CostService (SQLite in a temp folder) with 50 budgets in the
tenant, three of which cover the checked call (a calendar month in
Europe/Berlin for the tenant, a daily budget for the user, a rolling 24 h
budget for the model), and 5,000 ledger records spread over the last week so
the budgets' buckets are populated. CheckBudget and health Check calls
alternate on one channel, so machine noise hits both alike; the figure that
matters is CheckBudget's p99 over Check's p99 (target <= 1.25).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from llmops.v1 import common_pb2, cost_pb2, cost_pb2_grpc
from rpc_ratio import alternate, health_check, print_ratio

from services.common.server import running_server
from services.cost.servicer import SPEC
from services.cost.settings import CostSettings


def budget(name: str, dimension: int, value: str, window: cost_pb2.BudgetWindow) -> Any:
    return cost_pb2.CreateBudgetRequest(
        budget=cost_pb2.Budget(
            name=name,
            dimension=dimension,
            value=value,
            window=window,
            limit=common_pb2.Money(currency_code="USD", amount_micros=10_000_000_000),
            alert_thresholds_percent=[50, 80, 100],
        )
    )


async def seed(stub: cost_pb2_grpc.CostServiceStub) -> None:
    month = cost_pb2.BudgetWindow(
        kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH, time_zone="Europe/Berlin"
    )
    day = cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_DAY)
    rolling = cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS, length=24)
    await stub.CreateBudget(budget("tenant", 0, "", month), timeout=10)
    await stub.CreateBudget(budget("user", cost_pb2.SPEND_DIMENSION_USER, "user-1", day))
    await stub.CreateBudget(budget("model", cost_pb2.SPEND_DIMENSION_MODEL, "gpt-4o", rolling))
    for i in range(47):
        await stub.CreateBudget(
            budget(f"other-{i}", cost_pb2.SPEND_DIMENSION_USER, f"user-{i + 100}", day)
        )
    now = datetime.now(UTC)
    records = []
    for i in range(5_000):
        record = common_pb2.CallRecord(
            request_id=f"r{i}",
            model="gpt-4o" if i % 2 else "gpt-4o-mini",
            user_id=f"user-{i % 150}",
            status=common_pb2.CALL_STATUS_SUCCESS,
            usage=common_pb2.TokenUsage(input_tokens=1_000 + i, output_tokens=200),
        )
        record.timestamp.FromDatetime(now - timedelta(minutes=2 * i))
        records.append(record)
    for start in range(0, len(records), 500):
        request = cost_pb2.RecordSpendRequest(records=records[start : start + 500])
        await stub.RecordSpend(request, timeout=30)


async def measure(calls: int, folder: Path) -> None:
    settings = CostSettings(
        database_url=f"sqlite:///{folder / 'bench.db'}", tiktoken_cache_dir=folder / "tiktoken"
    )
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = cost_pb2_grpc.CostServiceStub(channel)
        await seed(stub)
        request = cost_pb2.CheckBudgetRequest(
            model="gpt-4o",
            user_id="user-1",
            prompt_template="support@v3",
            expected_cost=common_pb2.Money(currency_code="USD", amount_micros=2_000),
        )
        response = await stub.CheckBudget(request, timeout=5)
        assert len(response.budgets) == 3, response
        noop = health_check(channel)
        call = functools.partial(stub.CheckBudget, request, timeout=5)
        await alternate(call, noop, 500)  # warm up both paths and the channel
        budget_ms, check_ms = await alternate(call, noop, calls)
    print_ratio("CheckBudget, 3 of 50 budgets covering the call", budget_ms, check_ms)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(calls, Path(folder)))


if __name__ == "__main__":
    main()
