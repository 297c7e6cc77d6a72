"""CostService over real gRPC on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from llmops.v1 import common_pb2, cost_pb2, cost_pb2_grpc
from prometheus_client import REGISTRY

from services.common.server import running_server
from services.cost.servicer import SPEC
from services.cost.settings import CostSettings
from services.cost.tokens import INLINE_COUNT_CHARS

ACME = (("x-llmops-tenant", "acme"),)
GLOBEX = (("x-llmops-tenant", "globex"),)
SAMPLE_EXPORT = (
    Path(__file__).resolve().parents[1] / "data" / "cost_billing_export.csv"
).read_text()


@pytest.fixture(scope="session")
def tiktoken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiktoken")


@pytest.fixture
def settings(database_url: str, tiktoken_dir: Path) -> CostSettings:
    return CostSettings(
        database_url=database_url, tiktoken_cache_dir=tiktoken_dir, budget_refresh_seconds=0
    )


@pytest.fixture
def sqlite_settings(tmp_path: Path, tiktoken_dir: Path) -> CostSettings:
    return CostSettings(
        database_url=f"sqlite:///{tmp_path / 'cost.db'}",
        tiktoken_cache_dir=tiktoken_dir,
        budget_refresh_seconds=0,
    )


@asynccontextmanager
async def serving(settings: CostSettings) -> AsyncIterator[cost_pb2_grpc.CostServiceStub]:
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        yield cost_pb2_grpc.CostServiceStub(channel)


@pytest.fixture
async def stub(settings: CostSettings) -> AsyncIterator[cost_pb2_grpc.CostServiceStub]:
    async with serving(settings) as client:
        yield client


@pytest.fixture
async def sqlite_stub(
    sqlite_settings: CostSettings,
) -> AsyncIterator[cost_pb2_grpc.CostServiceStub]:
    async with serving(sqlite_settings) as client:
        yield client


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def record(
    request_id: str,
    model: str = "gpt-4o",
    input_tokens: int = 1_000,
    output_tokens: int = 500,
    at: datetime | None = None,
    **fields: Any,
) -> common_pb2.CallRecord:
    message = common_pb2.CallRecord(
        request_id=request_id,
        model=model,
        status=fields.pop("status", common_pb2.CALL_STATUS_SUCCESS),
        usage=common_pb2.TokenUsage(input_tokens=input_tokens, output_tokens=output_tokens),
        **fields,
    )
    message.timestamp.CopyFrom(stamp(at or datetime.now(UTC)))
    return message


def usd(micros: int) -> common_pb2.Money:
    return common_pb2.Money(currency_code="USD", amount_micros=micros)


def budget(name: str, limit: int, **fields: Any) -> cost_pb2.CreateBudgetRequest:
    window = fields.pop(
        "window", cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH)
    )
    return cost_pb2.CreateBudgetRequest(
        budget=cost_pb2.Budget(
            name=name,
            window=window,
            limit=usd(limit),
            alert_thresholds_percent=fields.pop("thresholds", [50, 80, 100]),
            **fields,
        )
    )


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def field_of(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return str(info.metadata["field"])


# ------------------------------------------------------------------ tokens


async def test_count_tokens_rpcs(sqlite_stub: cost_pb2_grpc.CostServiceStub) -> None:
    one = await sqlite_stub.CountTokens(
        cost_pb2.CountTokensRequest(model="gpt-4o", text="hello world"), timeout=10
    )
    assert (one.tokens, one.encoding, one.estimated) == (2, "o200k_base", False)
    batch = await sqlite_stub.CountTokensBatch(
        cost_pb2.CountTokensBatchRequest(
            model="claude-3-5-haiku", texts=["hello world", "x" * 9000]
        ),
        timeout=10,
    )
    assert batch.encoding == "cl100k_base"
    assert batch.estimated
    assert batch.tokens[0] == 2
    assert len(batch.tokens) == 2
    chat = await sqlite_stub.CountChatTokens(
        cost_pb2.CountChatTokensRequest(
            model="gpt-4",
            messages=[cost_pb2.ChatMessage(role="user", content="hello world", name="bob")],
        ),
        timeout=10,
    )
    # 3 framing + "user" (1) + "hello world" (2) + name "bob" (1) + 1 + 3 priming
    assert chat.tokens == 11
    error = await rpc_error(
        sqlite_stub.CountChatTokens(cost_pb2.CountChatTokensRequest(model="gpt-4"), timeout=10)
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_large_batch_split_across_threads_keeps_request_order(
    sqlite_stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    texts = [f"text number {i} " * (i * 100) for i in range(11)]
    batch = await sqlite_stub.CountTokensBatch(
        cost_pb2.CountTokensBatchRequest(model="gpt-4.1", texts=texts), timeout=10
    )
    singles = [
        (await sqlite_stub.CountTokens(cost_pb2.CountTokensRequest(model="gpt-4.1", text=t))).tokens
        for t in texts
    ]
    assert sum(len(t) for t in texts) >= 2 * INLINE_COUNT_CHARS
    assert list(batch.tokens) == singles
    assert batch.tokens[0] == 0
    assert (batch.encoding, batch.estimated) == ("o200k_base", False)


# ------------------------------------------------------------------ prices


async def test_estimate_cost_with_lines_tier_and_unknown_model(
    sqlite_stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    response = await sqlite_stub.EstimateCost(
        cost_pb2.EstimateCostRequest(
            model="gemini-2.5-pro",
            usage=common_pb2.TokenUsage(
                input_tokens=250_000, output_tokens=1_000, cache_read_input_tokens=50_000
            ),
            timestamp=stamp(datetime(2026, 1, 1, tzinfo=UTC)),
        ),
        timeout=10,
    )
    # Whole-request tier: 200,000 x 2.50 + 50,000 x 0.25 + 1,000 x 15.00 (per M)
    assert response.cost == usd(500_000 + 12_500 + 15_000)
    assert response.tier_above_input_tokens == 200_000
    assert response.price_found
    assert response.price_effective_from == "2025-06-17"
    assert {line.component: line.price_per_mtok for line in response.lines} == {
        "input": "2.50",
        "cache_read": "0.25",
        "output": "15.00",
    }
    unknown = await sqlite_stub.EstimateCost(
        cost_pb2.EstimateCostRequest(
            model="llama-3.1-70b", usage=common_pb2.TokenUsage(input_tokens=10)
        ),
        timeout=10,
    )
    assert not unknown.price_found
    assert unknown.cost.amount_micros == 0


async def test_upserted_prices_persist_and_bad_reload_keeps_table(
    database_url: str, tiktoken_dir: Path, tmp_path: Path
) -> None:
    price_file = tmp_path / "prices.yaml"
    price_file.write_text(
        "prices:\n  - model: house-model\n    effective_from: '2025-01-01'\n"
        "    input_per_mtok: '1.00'\n    output_per_mtok: '2.00'\n"
    )
    settings = CostSettings(
        database_url=database_url,
        tiktoken_cache_dir=tiktoken_dir,
        price_file=price_file,
        budget_refresh_seconds=0,
    )
    usage = common_pb2.TokenUsage(input_tokens=1_000_000, output_tokens=0)
    async with serving(settings) as stub:
        upserted = await stub.UpsertPrices(
            cost_pb2.UpsertPricesRequest(
                prices=[
                    cost_pb2.PriceEntry(
                        model="house-model",
                        effective_from="2026-01-01",
                        input_per_mtok="0.50",
                        output_per_mtok="1.00",
                        aliases=["house"],
                        tiers=[
                            cost_pb2.PriceTier(
                                above_input_tokens=100,
                                mode=cost_pb2.TIER_MODE_MARGINAL,
                                input_per_mtok="0.75",
                                output_per_mtok="1.00",
                            )
                        ],
                    )
                ]
            ),
            metadata=ACME,
            timeout=10,
        )
        assert upserted.upserted == 1
        other = await stub.EstimateCost(
            cost_pb2.EstimateCostRequest(model="house-model", usage=usage), metadata=GLOBEX
        )
        assert other.cost.amount_micros == 1_000_000
    async with serving(settings) as stub:
        # 100 x 0.50 + 999,900 x 0.75 (per M), from the override that survived the restart.
        response = await stub.EstimateCost(
            cost_pb2.EstimateCostRequest(model="house", usage=usage), metadata=ACME, timeout=10
        )
        assert response.cost.amount_micros == 749_975
        listed = await stub.ListPrices(
            cost_pb2.ListPricesRequest(model="house-model"), metadata=ACME, timeout=10
        )
        assert [p.effective_from for p in listed.prices] == ["2025-01-01", "2026-01-01"]
        assert listed.prices[1].tiers[0].mode == cost_pb2.TIER_MODE_MARGINAL

        price_file.write_text(
            "prices:\n  - model: house-model\n    effective_from: '2025-01-01'\n"
            "    input_per_mtok: 'cheap'\n    output_per_mtok: '2.00'\n"
        )
        error = await rpc_error(stub.ReloadPrices(cost_pb2.ReloadPricesRequest(), timeout=10))
        assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert ":4:" in (error.details() or "")
        still = await stub.EstimateCost(
            cost_pb2.EstimateCostRequest(model="house-model", usage=usage), metadata=GLOBEX
        )
        assert still.cost.amount_micros == 1_000_000

        price_file.write_text(
            "prices:\n  - model: house-model\n    effective_from: '2025-01-01'\n"
            "    input_per_mtok: '3.00'\n    output_per_mtok: '2.00'\n"
        )
        reloaded = await stub.ReloadPrices(cost_pb2.ReloadPricesRequest(), timeout=10)
        assert reloaded.entries == 1
        after = await stub.EstimateCost(
            cost_pb2.EstimateCostRequest(model="house-model", usage=usage), metadata=GLOBEX
        )
        assert after.cost.amount_micros == 3_000_000


async def test_list_prices_pages(sqlite_stub: cost_pb2_grpc.CostServiceStub) -> None:
    seen: list[tuple[str, str]] = []
    token = ""
    while True:
        page = await sqlite_stub.ListPrices(
            cost_pb2.ListPricesRequest(page_size=7, page_token=token), timeout=10
        )
        assert len(page.prices) <= 7
        seen += [(p.model, p.effective_from) for p in page.prices]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(set(seen))
    assert ("gpt-4o", "2024-10-02") in seen
    assert len(seen) > 30


# ------------------------------------------------------------------ ledger


async def test_record_spend_is_idempotent_and_query_groups(
    stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    day = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    records = [
        record("r1", "gpt-4o", at=day, user_id="alice", tag="team-a"),  # 7,500
        record("r2", "gpt-4o-mini", at=day + timedelta(hours=1), user_id="alice"),  # 450
        record("r3", "gpt-4o", at=day + timedelta(days=1), user_id="bob"),  # 7,500
        record("r4", "llama-3", at=day, user_id="bob"),  # unpriced
    ]
    first = await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=records), metadata=ACME, timeout=10
    )
    assert (first.recorded, first.duplicates, first.unpriced) == (4, 0, 1)
    again = await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[records[0], records[0], record("r5", at=day)]),
        metadata=ACME,
        timeout=10,
    )
    assert (again.recorded, again.duplicates) == (1, 2)

    by_model = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(group_by=[cost_pb2.SPEND_DIMENSION_MODEL]),
        metadata=ACME,
        timeout=10,
    )
    totals = {tuple(row.group_values): (row.cost.amount_micros, row.calls) for row in by_model.rows}
    assert totals == {
        ("gpt-4o",): (22_500, 3),
        ("gpt-4o-mini",): (450, 1),
        ("llama-3",): (0, 1),
    }
    assert by_model.total_cost.amount_micros == 22_950

    daily = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(
            group_by=[cost_pb2.SPEND_DIMENSION_USER],
            granularity=cost_pb2.TIME_GRANULARITY_DAY,
            filters=[
                cost_pb2.DimensionFilter(dimension=cost_pb2.SPEND_DIMENSION_MODEL, value="gpt-4o")
            ],
            time_range=common_pb2.TimeRange(
                start_time=stamp(day - timedelta(hours=1)), end_time=stamp(day + timedelta(days=3))
            ),
        ),
        metadata=ACME,
        timeout=10,
    )
    rows = [
        (row.bucket_start.ToDatetime(tzinfo=UTC), tuple(row.group_values), row.cost.amount_micros)
        for row in daily.rows
    ]
    assert rows == [
        (datetime(2026, 11, 2, tzinfo=UTC), ("",), 7_500),
        (datetime(2026, 11, 2, tzinfo=UTC), ("alice",), 7_500),
        (datetime(2026, 11, 3, tzinfo=UTC), ("bob",), 7_500),
    ]
    hourly = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(granularity=cost_pb2.TIME_GRANULARITY_HOUR),
        metadata=ACME,
        timeout=10,
    )
    assert hourly.rows[0].bucket_start.ToDatetime(tzinfo=UTC) == datetime(
        2026, 11, 2, 10, tzinfo=UTC
    )
    monthly = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(
            granularity=cost_pb2.TIME_GRANULARITY_MONTH,
            group_by=[cost_pb2.SPEND_DIMENSION_TAG],
        ),
        metadata=ACME,
        timeout=10,
    )
    assert {(tuple(r.group_values), r.cost.amount_micros) for r in monthly.rows} == {
        (("team-a",), 7_500),
        (("",), 15_450),
    }
    assert all(
        r.bucket_start.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 1, tzinfo=UTC)
        for r in monthly.rows
    )
    other = await stub.QuerySpend(cost_pb2.QuerySpendRequest(), metadata=GLOBEX, timeout=10)
    assert list(other.rows) == []


async def test_ledger_prices_each_call_at_the_price_in_force(
    stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    # o3 went from 10/40 to 2/8 per M tokens on 2025-06-10, in the middle of the month.
    before = datetime(2025, 6, 9, 23, 30, tzinfo=UTC)
    after = datetime(2025, 6, 10, 0, 30, tzinfo=UTC)
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(
            records=[
                record("before", "o3", 1_000, 1_000, at=before),
                record("after", "o3", 1_000, 1_000, at=after),
            ]
        ),
        metadata=ACME,
        timeout=10,
    )
    monthly = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(granularity=cost_pb2.TIME_GRANULARITY_DAY), metadata=ACME
    )
    assert [row.cost.amount_micros for row in monthly.rows] == [50_000, 10_000]


async def test_billed_amounts_win_over_estimates(stub: cost_pb2_grpc.CostServiceStub) -> None:
    at = datetime(2026, 11, 2, 10, tzinfo=UTC)
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(
            records=[
                record("a", at=at),
                record("b", at=at, billed_cost=usd(1_234)),
                record("c", at=at),
            ]
        ),
        metadata=ACME,
        timeout=10,
    )
    imported = await stub.ImportBilledAmounts(
        cost_pb2.ImportBilledAmountsRequest(
            amounts=[
                cost_pb2.BilledAmount(request_id="a", amount=usd(5_000)),
                cost_pb2.BilledAmount(request_id="late", amount=usd(100)),
            ]
        ),
        metadata=ACME,
        timeout=10,
    )
    assert (imported.applied, imported.unmatched) == (1, 1)
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[record("late", at=at)]), metadata=ACME, timeout=10
    )
    total = await stub.QuerySpend(cost_pb2.QuerySpendRequest(), metadata=ACME, timeout=10)
    (row,) = total.rows
    # a: billed 5,000; b: billed 1,234; c: estimate 7,500; late: billed 100.
    assert row.cost.amount_micros == 5_000 + 1_234 + 7_500 + 100
    assert row.estimated_cost.amount_micros == 7_500


async def test_nul_in_a_label_does_not_fail_the_batch(stub: cost_pb2_grpc.CostServiceStub) -> None:
    response = await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[record("nul", user_id="a\x00b"), record("ok")]),
        metadata=ACME,
        timeout=10,
    )
    assert response.recorded == 2
    spend = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(group_by=[cost_pb2.SPEND_DIMENSION_USER]), metadata=ACME
    )
    assert sorted(tuple(row.group_values) for row in spend.rows) == [("",), ("a\ufffdb",)]


async def test_a_filter_with_a_nul_finds_the_label_stored_for_it(
    stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    # Labels are stored with U+FFFD for NUL; the filter value was sent to SQL as given
    # (INTERNAL on PostgreSQL, no match on SQLite).
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[record("nul", user_id="a\x00b"), record("ok")]),
        metadata=ACME,
        timeout=10,
    )
    spend = await stub.QuerySpend(
        cost_pb2.QuerySpendRequest(
            filters=[
                cost_pb2.DimensionFilter(dimension=cost_pb2.SPEND_DIMENSION_USER, value="a\x00b")
            ]
        ),
        metadata=ACME,
        timeout=10,
    )
    assert [row.calls for row in spend.rows] == [1]


async def test_non_usd_billed_cost_keeps_the_estimate(
    sqlite_stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    euro = common_pb2.Money(currency_code="EUR", amount_micros=1)
    response = await sqlite_stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[record("eur", billed_cost=euro), record("ok")]),
        timeout=10,
    )
    assert response.recorded == 2
    (row,) = (await sqlite_stub.QuerySpend(cost_pb2.QuerySpendRequest(), timeout=10)).rows
    assert row.cost.amount_micros == 2 * 7_500
    assert row.estimated_cost.amount_micros == 2 * 7_500


# ------------------------------------------------------------------ budgets


def gauge(name: str, budget_name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"tenant": "acme", "budget": budget_name})


async def test_budget_lifecycle_decisions_alerts_and_gauges(
    stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    created = await stub.CreateBudget(
        budget("alice-daily", 10_000, dimension=cost_pb2.SPEND_DIMENSION_USER, value="alice"),
        metadata=ACME,
        timeout=10,
    )
    budget_id = created.status.budget.id
    assert created.status.decision == cost_pb2.BUDGET_DECISION_ALLOW
    assert created.status.remaining == usd(10_000)
    await stub.CreateBudget(budget("tenant", 1_000_000), metadata=ACME, timeout=10)
    duplicate = await rpc_error(stub.CreateBudget(budget("tenant", 5), metadata=ACME, timeout=10))
    assert duplicate.code() is grpc.StatusCode.ALREADY_EXISTS

    check = cost_pb2.CheckBudgetRequest(model="gpt-4o", user_id="alice")
    assert (await stub.CheckBudget(check, metadata=ACME)).decision == cost_pb2.BUDGET_DECISION_ALLOW
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(records=[record("r1", user_id="alice")]),  # 7,500
        metadata=ACME,
        timeout=10,
    )
    warned = await stub.CheckBudget(check, metadata=ACME, timeout=10)
    assert warned.decision == cost_pb2.BUDGET_DECISION_WARN
    alice = next(s for s in warned.budgets if s.budget.name == "alice-daily")
    assert (alice.spent.amount_micros, alice.alert_threshold_crossed) == (7_500, 50)
    assert len(warned.budgets) == 2
    over = cost_pb2.CheckBudgetRequest(model="gpt-4o", user_id="alice", expected_cost=usd(2_500))
    assert (await stub.CheckBudget(over, metadata=ACME)).decision == cost_pb2.BUDGET_DECISION_DENY
    bob = cost_pb2.CheckBudgetRequest(user_id="bob")
    assert (await stub.CheckBudget(bob, metadata=ACME)).decision == cost_pb2.BUDGET_DECISION_ALLOW
    assert (
        await stub.CheckBudget(check, metadata=GLOBEX)
    ).decision == cost_pb2.BUDGET_DECISION_ALLOW

    alerts = await stub.ListBudgetAlerts(cost_pb2.ListBudgetAlertsRequest(), metadata=ACME)
    assert [s.budget.name for s in alerts.budgets] == ["alice-daily"]
    assert gauge("llmops_budget_spend_usd", "alice-daily") == pytest.approx(0.0075)
    assert gauge("llmops_budget_remaining_usd", "alice-daily") == pytest.approx(0.0025)

    listed = await stub.ListBudgets(cost_pb2.ListBudgetsRequest(page_size=1), metadata=ACME)
    assert [s.budget.name for s in listed.budgets] == ["alice-daily"]
    rest = await stub.ListBudgets(
        cost_pb2.ListBudgetsRequest(page_token=listed.next_page_token), metadata=ACME
    )
    assert [s.budget.name for s in rest.budgets] == ["tenant"]
    assert not rest.next_page_token

    got = await stub.GetBudget(cost_pb2.GetBudgetRequest(id=budget_id), metadata=ACME)
    assert got.status.spent.amount_micros == 7_500
    hidden = await rpc_error(
        stub.GetBudget(cost_pb2.GetBudgetRequest(id=budget_id), metadata=GLOBEX)
    )
    assert hidden.code() is grpc.StatusCode.NOT_FOUND
    await stub.DeleteBudget(cost_pb2.DeleteBudgetRequest(id=budget_id), metadata=ACME)
    gone = await rpc_error(stub.GetBudget(cost_pb2.GetBudgetRequest(id=budget_id), metadata=ACME))
    assert gone.code() is grpc.StatusCode.NOT_FOUND
    assert gauge("llmops_budget_spend_usd", "alice-daily") is None


async def test_budget_gauges_are_capped(sqlite_settings: CostSettings) -> None:
    capped = dataclasses.replace(sqlite_settings, budget_metrics_limit=1)
    async with serving(capped) as stub:
        for name in ("cap-b", "cap-a"):
            await stub.CreateBudget(budget(name, 1_000), metadata=ACME, timeout=10)
        assert gauge("llmops_budget_remaining_usd", "cap-a") == pytest.approx(0.001)
        assert gauge("llmops_budget_remaining_usd", "cap-b") is None


async def test_budget_count_per_tenant_is_capped(sqlite_settings: CostSettings) -> None:
    capped = dataclasses.replace(sqlite_settings, max_budgets_per_tenant=2)
    async with serving(capped) as stub:
        for name in ("one", "two"):
            await stub.CreateBudget(budget(name, 1_000), metadata=ACME, timeout=10)
        error = await rpc_error(stub.CreateBudget(budget("three", 1_000), metadata=ACME))
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        await stub.CreateBudget(budget("three", 1_000), metadata=GLOBEX, timeout=10)


async def test_budget_state_is_rebuilt_from_ledger_after_restart(settings: CostSettings) -> None:
    window = cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_ROLLING_HOURS, length=24)
    async with serving(settings) as stub:
        await stub.CreateBudget(
            budget(
                "gpt4o",
                15_000,
                dimension=cost_pb2.SPEND_DIMENSION_MODEL,
                value="gpt-4o",
                window=window,
            ),
            metadata=ACME,
        )
        await stub.RecordSpend(
            cost_pb2.RecordSpendRequest(
                records=[
                    record("r1"),
                    record("r2", at=datetime.now(UTC) - timedelta(hours=1)),
                    record("old", at=datetime.now(UTC) - timedelta(hours=30)),
                ]
            ),
            metadata=ACME,
        )
    async with serving(settings) as stub:
        response = await stub.CheckBudget(
            cost_pb2.CheckBudgetRequest(model="gpt-4o"), metadata=ACME
        )
        assert response.decision == cost_pb2.BUDGET_DECISION_DENY
        assert response.budgets[0].spent.amount_micros == 15_000


async def test_model_budget_counts_platform_calls_at_the_platform_price(
    stub: cost_pb2_grpc.CostServiceStub,
) -> None:
    await stub.CreateBudget(
        budget("gpt4o", 100_000, dimension=cost_pb2.SPEND_DIMENSION_MODEL, value="gpt-4o"),
        metadata=ACME,
    )
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(
            # 1,000 x 2.50 + 500 x 10.00 per M = 7,500 micro-USD; 10% more in an Azure
            # data zone: 8,250.
            records=[record("global", "azure/gpt-4o"), record("zone", "azure/eu/gpt-4o")]
        ),
        metadata=ACME,
    )
    response = await stub.CheckBudget(
        cost_pb2.CheckBudgetRequest(model="azure/us/gpt-4o-2024-08-06"), metadata=ACME
    )
    assert response.budgets[0].spent.amount_micros == 7_500 + 8_250


async def test_replicas_converge_through_the_ledger(settings: CostSettings) -> None:
    fast = dataclasses.replace(settings, budget_refresh_seconds=0.2)
    async with serving(fast) as first, serving(fast) as second:
        await first.CreateBudget(budget("all", 10_000), metadata=ACME)
        await first.RecordSpend(cost_pb2.RecordSpendRequest(records=[record("r1")]), metadata=ACME)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            response = await second.CheckBudget(cost_pb2.CheckBudgetRequest(), metadata=ACME)
            if response.budgets and response.budgets[0].spent.amount_micros == 7_500:
                break
            assert asyncio.get_running_loop().time() < deadline, "replica never converged"
            await asyncio.sleep(0.1)
        assert response.decision == cost_pb2.BUDGET_DECISION_WARN


async def test_full_rebuild_brings_in_late_records_from_other_replicas(
    settings: CostSettings,
) -> None:
    window = cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_ROLLING_DAYS, length=1)
    rebuilding = dataclasses.replace(
        settings, budget_refresh_seconds=0.2, budget_rebuild_seconds=0.5
    )
    async with serving(settings) as first, serving(rebuilding) as second:
        await first.CreateBudget(budget("day", 100_000, window=window), metadata=ACME)
        await second.GetBudget(
            cost_pb2.GetBudgetRequest(
                id=(await first.ListBudgets(cost_pb2.ListBudgetsRequest(), metadata=ACME))
                .budgets[0]
                .budget.id
            ),
            metadata=ACME,
        )
        # Dated three hours back: older than the frequent refresh re-reads.
        late = record("late", at=datetime.now(UTC) - timedelta(hours=3))
        await first.RecordSpend(cost_pb2.RecordSpendRequest(records=[late]), metadata=ACME)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            response = await second.CheckBudget(cost_pb2.CheckBudgetRequest(), metadata=ACME)
            if response.budgets[0].spent.amount_micros == 7_500:
                break
            assert asyncio.get_running_loop().time() < deadline, "late record never seen"
            await asyncio.sleep(0.1)


async def test_budget_created_on_another_replica_is_found(settings: CostSettings) -> None:
    async with serving(settings) as first, serving(settings) as second:
        created = await first.CreateBudget(budget("elsewhere", 10_000), metadata=ACME)
        request = cost_pb2.GetBudgetRequest(id=created.status.budget.id)
        found = await second.GetBudget(request, metadata=ACME, timeout=10)
        assert found.status.budget.name == "elsewhere"
        checked = await second.CheckBudget(cost_pb2.CheckBudgetRequest(), metadata=ACME)
        assert [s.budget.name for s in checked.budgets] == ["elsewhere"]


# ---------------------------------------------------------- reconciliation


async def test_reconciliation_report_over_rpc(stub: cost_pb2_grpc.CostServiceStub) -> None:
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    await stub.RecordSpend(
        cost_pb2.RecordSpendRequest(
            records=[record(f"r{i}", "gpt-4o", 10_000, 2_000, at=at) for i in range(10)]
            + [record("m1", "gpt-4o-mini", 50_000, 5_000, at=at)]
        ),
        metadata=ACME,
    )
    imported = await stub.ImportBillingExport(
        cost_pb2.ImportBillingExportRequest(provider="openai", csv=SAMPLE_EXPORT), metadata=ACME
    )
    assert imported.rows == 7
    report = await stub.GetReconciliationReport(
        cost_pb2.GetReconciliationReportRequest(
            time_range=common_pb2.TimeRange(
                start_time=stamp(datetime(2026, 11, 1, 6, tzinfo=UTC)),
                end_time=stamp(datetime(2026, 11, 1, 18, tzinfo=UTC)),
            )
        ),
        metadata=ACME,
    )
    rows = {row.model: row for row in report.rows}
    assert {row.day for row in report.rows} == {"2026-11-01"}
    assert rows["gpt-4o"].estimated == usd(450_000)
    assert rows["gpt-4o"].billed == usd(450_000)
    assert rows["gpt-4o"].likely_cause == "none"
    assert rows["gpt-4o-mini"].likely_cause == "uncounted_calls"
    assert rows["gpt-4o-mini"].billed_input_tokens == 80_000
    assert rows["claude-sonnet-4"].calls == 0
    only = await stub.GetReconciliationReport(
        cost_pb2.GetReconciliationReportRequest(model="gpt-4o-2024-08-06"), metadata=ACME
    )
    assert [row.model for row in only.rows] == ["gpt-4o"]
    bad = await rpc_error(
        stub.ImportBillingExport(
            cost_pb2.ImportBillingExportRequest(
                provider="openai",
                csv="day,model,input_tokens,output_tokens,amount_usd\nx,y,1,1,1\n",
            ),
            metadata=ACME,
        )
    )
    assert bad.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "line 2" in (bad.details() or "")


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("method", "request_message", "field"),
    [
        (
            "EstimateCost",
            cost_pb2.EstimateCostRequest(
                model="gpt-4o", usage=common_pb2.TokenUsage(input_tokens=-1)
            ),
            "usage.input_tokens",
        ),
        (
            "RecordSpend",
            cost_pb2.RecordSpendRequest(records=[record("ok"), record("bad", output_tokens=-3)]),
            "records[1].usage.output_tokens",
        ),
        (
            "RecordSpend",
            cost_pb2.RecordSpendRequest(records=[record("")]),
            "records[0].request_id",
        ),
        (
            "RecordSpend",
            cost_pb2.RecordSpendRequest(records=[record("x", status=0)]),
            "records[0].status",
        ),
        ("QuerySpend", cost_pb2.QuerySpendRequest(group_by=[42]), "group_by[0]"),
        ("ListPrices", cost_pb2.ListPricesRequest(page_token="!!"), "page_token"),
        ("ListBudgets", cost_pb2.ListBudgetsRequest(page_size=-1), "page_size"),
        (
            "CreateBudget",
            budget(
                "x",
                10,
                window=cost_pb2.BudgetWindow(
                    kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_DAY, time_zone="Nowhere/City"
                ),
            ),
            "budget.window.time_zone",
        ),
        ("CreateBudget", budget("x", 0), "budget.limit.amount_micros"),
        ("CreateBudget", cost_pb2.CreateBudgetRequest(), "budget.window.kind"),
        (
            "UpsertPrices",
            cost_pb2.UpsertPricesRequest(
                prices=[
                    cost_pb2.PriceEntry(model="m", effective_from="2025-01-01", input_per_mtok="1")
                ]
            ),
            "prices[0].output_per_mtok",
        ),
        (
            "UpsertPrices",
            cost_pb2.UpsertPricesRequest(
                prices=[
                    cost_pb2.PriceEntry(
                        model="m",
                        effective_from="2025-01-01",
                        input_per_mtok="1",
                        output_per_mtok="1",
                        tiers=[
                            cost_pb2.PriceTier(
                                above_input_tokens=5, input_per_mtok="1", output_per_mtok="1"
                            )
                        ],
                    )
                ]
            ),
            "prices[0].tiers[0].mode",
        ),
        (
            "CheckBudget",
            cost_pb2.CheckBudgetRequest(expected_cost=usd(-1)),
            "expected_cost.amount_micros",
        ),
        (
            "ImportBilledAmounts",
            cost_pb2.ImportBilledAmountsRequest(amounts=[cost_pb2.BilledAmount(amount=usd(1))]),
            "amounts[0].request_id",
        ),
        (
            "ImportBilledAmounts",
            cost_pb2.ImportBilledAmountsRequest(
                amounts=[cost_pb2.BilledAmount(request_id="a\x00", amount=usd(1))]
            ),
            "amounts[0].request_id",
        ),
        (
            "RecordSpend",
            cost_pb2.RecordSpendRequest(records=[record("r" * 129)]),
            "records[0].request_id",
        ),
        ("CreateBudget", budget("bad\x00name", 10), "budget.name"),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field(
    sqlite_stub: cost_pb2_grpc.CostServiceStub, method: str, request_message: Any, field: str
) -> None:
    error = await rpc_error(getattr(sqlite_stub, method)(request_message, timeout=10))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert field_of(error) == field
    # The server is still healthy and nothing of a rejected batch was stored.
    spend = await sqlite_stub.QuerySpend(cost_pb2.QuerySpendRequest(), timeout=10)
    assert list(spend.rows) == []
