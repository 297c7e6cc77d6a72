"""CostEngine and CostStore under concurrency and cancellation, on SQLite and
PostgreSQL: spend is counted exactly once in SQL and in budget memory whatever the
interleaving, and whenever the caller goes away; a budget or price write its caller
abandons mid-way still reaches memory as well as SQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from llmops.v1 import common_pb2, cost_pb2, cost_pb2_grpc
from sqlalchemy.engine import Engine

from services.common.db import create_engine
from services.common.server import running_server
from services.cost import servicer
from services.cost.budgets import Budget, Decision, Window, WindowKind
from services.cost.engine import CostEngine, SpendRecord
from services.cost.prices import Usage
from services.cost.settings import BUNDLED_PRICE_FILE, CostSettings
from services.cost.store import BilledChange, CostStore, LedgerEntry

# gpt-4o at its 2024-10-02 price: 1,000 input and 500 output tokens.
COST = 7_500


class HeldStore(CostStore):
    """A CostStore whose next write can be held after it commits, before the engine
    applies it to memory: the moment a refresh's read can already see it."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.hold = False
        self.committed = threading.Event()
        self.release = threading.Event()

    def _held(self) -> None:
        if self.hold:
            self.hold = False
            self.committed.set()
            self.release.wait(30)

    def insert_ledger(self, tenant: str, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
        inserted = super().insert_ledger(tenant, entries)
        self._held()
        return inserted

    def import_billed(self, tenant: str, amounts: Sequence[tuple[str, int]]) -> list[BilledChange]:
        changes = super().import_billed(tenant, amounts)
        self._held()
        return changes

    def create_budget(self, budget: Budget) -> None:
        super().create_budget(budget)
        self._held()

    def delete_budget(self, tenant: str, budget_id: str) -> None:
        super().delete_budget(tenant, budget_id)
        self._held()

    def upsert_prices(
        self, tenant: str, entries: Iterable[tuple[str, date, dict[str, Any]]]
    ) -> int:
        written = super().upsert_prices(tenant, entries)
        self._held()
        return written


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[HeldStore]:
    sql = create_engine(database_url)
    yield HeldStore(sql)
    sql.dispose()


def day_budget(name: str, limit_micros: int = 10 * COST) -> Budget:
    """A budget on all of a tenant's spend over the last day."""
    return Budget(
        id="",
        tenant="",
        name=name,
        dimension=None,
        value="",
        window=Window(WindowKind.ROLLING_DAYS, 1),
        limit_micros=limit_micros,
    )


@pytest.fixture
async def engine(store: HeldStore) -> AsyncIterator[CostEngine]:
    cost = CostEngine(store, BUNDLED_PRICE_FILE, refresh_seconds=0)
    await cost.start()
    await cost.create_budget("acme", day_budget("all"))
    yield cost
    await cost.close()


def spend(request_id: str, at: datetime | None = None) -> SpendRecord:
    return SpendRecord(
        request_id=request_id,
        timestamp=at or datetime.now(UTC),
        model="gpt-4o",
        provider="openai",
        usage=Usage(input_tokens=1_000, output_tokens=500),
        status="success",
    )


def spent(engine: CostEngine) -> int:
    _, (status,) = engine.check_budget("acme", {}, 0)
    return status.spent_micros


async def refresh_while_held(engine: CostEngine, store: HeldStore, full: bool) -> None:
    """Runs a refresh that starts after the held write committed and before the engine
    added it to memory, then lets the write finish."""
    await asyncio.to_thread(store.committed.wait, 30)
    refreshing = asyncio.create_task(engine.refresh(full=full))
    # One turn of the loop: the refresh starts (its SQL read, which sees the committed
    # row, is now under way or waits for the write to finish).
    await asyncio.sleep(0)
    store.release.set()
    await refreshing


@pytest.mark.parametrize("full", [False, True], ids=["recent", "rebuild"])
async def test_spend_committed_as_a_refresh_starts_is_counted_once(
    engine: CostEngine, store: HeldStore, full: bool
) -> None:
    store.hold = True
    recording = asyncio.create_task(engine.record_spend("acme", [spend("r1")]))
    await refresh_while_held(engine, store, full)
    assert (await recording).recorded == 1
    assert spent(engine) == COST
    await engine.refresh(full=True)
    assert spent(engine) == COST


@pytest.mark.parametrize("full", [False, True], ids=["recent", "rebuild"])
async def test_billed_correction_committed_as_a_refresh_starts_is_applied_once(
    engine: CostEngine, store: HeldStore, full: bool
) -> None:
    await engine.record_spend("acme", [spend("r1")])
    store.hold = True
    importing = asyncio.create_task(engine.import_billed("acme", [("r1", 1_000)]))
    await refresh_while_held(engine, store, full)
    assert await importing == (1, 0)
    assert spent(engine) == 1_000
    await engine.refresh(full=True)
    assert spent(engine) == 1_000


async def ledger_total(engine: CostEngine) -> tuple[int, int]:
    """(cost, still-estimated part) of the tenant's whole ledger, from SQL."""
    (row,) = await engine.query_spend("acme", None, None, [], None, [])
    return row.cost_micros, row.estimated_micros


async def test_billed_amount_imported_while_its_record_arrives_wins(engine: CostEngine) -> None:
    rounds = 40
    for index in range(rounds):
        request_id = f"r{index}"
        await asyncio.gather(
            engine.record_spend("acme", [spend(request_id)]),
            engine.import_billed("acme", [(request_id, 1_000)]),
        )
    assert await ledger_total(engine) == (rounds * 1_000, 0)
    assert spent(engine) == rounds * 1_000


async def test_concurrent_imports_of_the_same_requests_apply_each_once(
    engine: CostEngine,
) -> None:
    ids = [f"r{index:03}" for index in range(200)]
    await engine.record_spend("acme", [spend(request_id) for request_id in ids])
    for round_ in range(5):
        amounts = [(request_id, 1_000 + round_) for request_id in ids]
        # Opposite orders: row-by-row updates in each would wait for each other.
        await asyncio.gather(
            engine.import_billed("acme", amounts), engine.import_billed("acme", amounts[::-1])
        )
        assert await ledger_total(engine) == (len(ids) * (1_000 + round_), 0)
        assert spent(engine) == len(ids) * (1_000 + round_)


async def test_overlapping_record_batches_in_opposite_orders_are_both_stored(
    engine: CostEngine,
) -> None:
    # LogSink forwards at least once, to any replica: the same records can arrive in
    # two batches at once. Inserting them in the order given deadlocked on PostgreSQL.
    records = [spend(f"r{index:04}") for index in range(2_000)]
    first, second = await asyncio.gather(
        engine.record_spend("acme", records), engine.record_spend("acme", records[::-1])
    )
    assert first.recorded + second.recorded == len(records)
    assert await ledger_total(engine) == (len(records) * COST, len(records) * COST)
    assert spent(engine) == len(records) * COST


async def cancel_while_held(store: HeldStore, writing: asyncio.Task[Any]) -> None:
    """Cancels the write's caller (a client's deadline or disconnect) after its commit,
    before the engine added it to memory, then lets the write go on."""
    await asyncio.to_thread(store.committed.wait, 30)
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    store.release.set()


def hours_ago(hours: int) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


async def writes_done(engine: CostEngine) -> None:
    """Waits for the writes in flight: a recent refresh waits for them (SpendGate), and
    re-reads only the last hour, so spend dated before it stays as the writes left it."""
    await engine.refresh(full=False)


async def test_spend_recorded_by_a_cancelled_call_is_counted_once(
    engine: CostEngine, store: HeldStore
) -> None:
    store.hold = True
    writing = asyncio.create_task(engine.record_spend("acme", [spend("r1", hours_ago(2))]))
    await cancel_while_held(store, writing)
    await writes_done(engine)
    assert spent(engine) == COST
    await engine.refresh(full=True)
    assert spent(engine) == COST


async def test_billed_correction_imported_by_a_cancelled_call_is_applied_once(
    engine: CostEngine, store: HeldStore
) -> None:
    await engine.record_spend("acme", [spend("r1", hours_ago(2))])
    store.hold = True
    writing = asyncio.create_task(engine.import_billed("acme", [("r1", 1_000)]))
    await cancel_while_held(store, writing)
    await writes_done(engine)
    assert spent(engine) == 1_000
    await engine.refresh(full=True)
    assert spent(engine) == 1_000


async def state_writes_done(engine: CostEngine) -> None:
    """Waits for the budget and price writes in flight: they are serialised, so another
    one (on another tenant) starts after them. Not a refresh, which would re-read SQL
    and hide whatever the writes left out of memory."""
    await engine.create_budget("other", day_budget("barrier"))


async def test_budget_created_by_a_cancelled_call_is_enforced(
    engine: CostEngine, store: HeldStore
) -> None:
    await engine.record_spend("acme", [spend("r1")])
    store.hold = True
    writing = asyncio.create_task(engine.create_budget("acme", day_budget("capped", COST)))
    await cancel_while_held(store, writing)
    await state_writes_done(engine)
    decision, statuses = engine.check_budget("acme", {}, 1)
    assert decision is Decision.DENY
    assert sorted((s.budget.name, s.spent_micros) for s in statuses) == [
        ("all", COST),
        ("capped", COST),
    ]


async def test_budget_deleted_by_a_cancelled_call_is_no_longer_enforced(
    engine: CostEngine, store: HeldStore
) -> None:
    (status,), _ = engine.list_budgets("acme", 0, "")
    store.hold = True
    writing = asyncio.create_task(engine.delete_budget("acme", status.budget.id))
    await cancel_while_held(store, writing)
    await state_writes_done(engine)
    assert engine.check_budget("acme", {}, 0) == (Decision.ALLOW, [])


async def test_prices_upserted_by_a_cancelled_call_are_in_force(
    engine: CostEngine, store: HeldStore
) -> None:
    entry = {
        "model": "house-model",
        "effective_from": "2024-01-01",
        "input_per_mtok": "2",
        "output_per_mtok": "8",
    }
    store.hold = True
    writing = asyncio.create_task(engine.upsert_prices("acme", [entry]))
    await cancel_while_held(store, writing)
    await state_writes_done(engine)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert engine.estimate("acme", "house-model", usage, None, False).micros == 10_000_000


async def test_budget_write_cancelled_while_waiting_for_another_is_not_made(
    engine: CostEngine, store: HeldStore
) -> None:
    store.hold = True
    first = asyncio.create_task(engine.create_budget("acme", day_budget("first")))
    await asyncio.to_thread(store.committed.wait, 30)
    second = asyncio.create_task(engine.create_budget("acme", day_budget("second")))
    # A few turns of the loop: the second call waits for the first to finish.
    for _ in range(3):
        await asyncio.sleep(0)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    store.release.set()
    await first
    await engine.refresh(full=True)
    statuses, _ = engine.list_budgets("acme", 0, "")
    assert [status.budget.name for status in statuses] == ["all", "first"]


async def test_spend_recorded_by_a_call_past_its_deadline_is_counted_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores: list[HeldStore] = []

    def held_store(sql: Engine) -> HeldStore:
        stores.append(HeldStore(sql))
        return stores[-1]

    # The server cancels the handler when the deadline passes; the store is released
    # only once that has happened, so the cancellation lands mid-write.
    handler_cancelled = asyncio.Event()
    record_spend = CostEngine.record_spend

    async def noting_cancellation(self: CostEngine, *args: Any) -> Any:
        try:
            return await record_spend(self, *args)
        except asyncio.CancelledError:
            handler_cancelled.set()
            raise

    monkeypatch.setattr(servicer, "CostStore", held_store)
    monkeypatch.setattr(CostEngine, "record_spend", noting_cancellation)
    settings = CostSettings(
        database_url=database_url, tiktoken_cache_dir=tmp_path, budget_refresh_seconds=0
    )
    acme = (("x-llmops-tenant", "acme"),)

    def all_spend(name: str) -> cost_pb2.CreateBudgetRequest:
        return cost_pb2.CreateBudgetRequest(
            budget=cost_pb2.Budget(
                name=name,
                window=cost_pb2.BudgetWindow(kind=cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH),
                limit=common_pb2.Money(currency_code="USD", amount_micros=10 * COST),
            )
        )

    record = common_pb2.CallRecord(
        request_id="r1",
        model="gpt-4o",
        status=common_pb2.CALL_STATUS_SUCCESS,
        usage=common_pb2.TokenUsage(input_tokens=1_000, output_tokens=500),
    )
    async with (
        running_server(servicer.SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = cost_pb2_grpc.CostServiceStub(channel)
        await stub.CreateBudget(all_spend("first"), metadata=acme, timeout=10)
        (store,) = stores
        store.hold = True
        request = cost_pb2.RecordSpendRequest(records=[record])
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.RecordSpend(request, metadata=acme, timeout=0.5)
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.wait_for(handler_cancelled.wait(), 10)
        store.release.set()
        # Seeding a new budget reads the ledger, so it waits for writes in flight
        # (SpendGate); the first budget's spend is what the write added to memory.
        await stub.CreateBudget(all_spend("second"), metadata=acme, timeout=10)
        checked = await stub.CheckBudget(cost_pb2.CheckBudgetRequest(), metadata=acme, timeout=10)
        assert [s.spent.amount_micros for s in checked.budgets] == [COST, COST]
