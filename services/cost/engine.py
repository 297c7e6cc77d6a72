"""CostService's domain: ties the price table, token counter, ledger store and
budget tracker together. No gRPC here; the servicer converts protos and awaits
these methods, and domain errors propagate to the shared interceptor.

Consistency model (several replicas behind a load balancer): the ledger, budgets
and price overrides live in SQL and are the truth. Each replica keeps budget
spend in memory so ``CheckBudget`` never touches the database; it adds the spend
it records itself at once. Every ``refresh_seconds`` it reloads budgets and price
overrides and re-reads the last hour of spend from SQL (so spend recorded through
another replica is seen within one interval), and every ``rebuild_seconds`` it
rebuilds whole windows (records dated further back, billed corrections). A
:class:`SpendGate` orders this replica's ledger writes against those reads, so the
spend it records itself is counted exactly once whatever the interleaving.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import Gauge

from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from services.cost import budgets as budgeting
from services.cost.budgets import Budget, BudgetStatus, BudgetTracker, Decision, SpendPoint
from services.cost.prices import (
    Cost,
    Price,
    PriceFileError,
    PriceTable,
    Usage,
    compute_cost,
    load_price_file,
    normalise_model,
    price_from_fields,
)
from services.cost.reconcile import ReconciliationRow, parse_export, reconcile
from services.cost.store import BilledChange, CostStore, LedgerEntry, SpendAggregate

logger = logging.getLogger(__name__)

BUDGET_SPEND = Gauge(
    "llmops_budget_spend_usd", "Spend in the budget's current window", ["tenant", "budget"]
)
BUDGET_REMAINING = Gauge(
    "llmops_budget_remaining_usd",
    "Limit minus spend in the current window, never below zero",
    ["tenant", "budget"],
)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_FIELD_CHARS = 256
STATUSES = frozenset({"success", "error", "timeout", "filtered"})
# How far back the frequent refresh re-reads spend; records LogSink forwards late
# (after an outage) beyond this wait for the next full rebuild.
RECENT_SPEND = timedelta(hours=1)

T = TypeVar("T")


@dataclass(frozen=True)
class SpendRecord:
    """The part of a CallRecord the ledger uses."""

    request_id: str
    timestamp: datetime | None
    model: str
    provider: str
    usage: Usage
    status: str
    user_id: str = ""
    prompt_template: str = ""
    experiment_id: str = ""
    variant: str = ""
    tag: str = ""
    batch: bool = False
    billed_micros: int | None = None


@dataclass(frozen=True)
class RecordResult:
    recorded: int
    duplicates: int
    unpriced: int


def encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_token(token: str, field: str = "page_token") -> str:
    try:
        value = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    if not value:
        raise InvalidArgument(field, "is not a token from a previous response")
    return value


def page_size(value: int) -> int:
    if value < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(value or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class SpendGate:
    """Orders ledger writes against reads of the ledger into budget memory.

    A write (a ledger commit and its add to memory) holds the gate shared with other
    writes; a snapshot (a SQL read of spend and the swap of its result into memory)
    holds it alone. Each commit therefore lands wholly before a snapshot (already in
    memory, and in the SQL result that replaces memory) or wholly after it (not in the
    result, added on top): counted once either way. Writes arriving while a snapshot
    waits queue behind it, so a steady stream of RecordSpend cannot starve the refresh;
    they wait at most one SQL read (the last hour, or a full rebuild's range scan).
    CheckBudget never takes the gate. State changes are synchronous on the event loop,
    so a cancelled waiter cannot leave the gate shut.
    """

    def __init__(self) -> None:
        self._writes: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._snapshotting = False
        self._open = asyncio.Event()
        self._open.set()

    async def _wait_open(self) -> None:
        while self._snapshotting:
            await self._open.wait()

    async def write(self, commit_and_apply: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Runs one write holding the gate shared, and returns its result."""
        await self._wait_open()
        # Once admitted, the write runs to its end (see _run_to_end): cancelled between
        # the commit and the add, the spend would be in SQL but not in memory until a
        # snapshot re-read it (the next refresh, or the next rebuild for records dated
        # over an hour back). The task holds the gate until it is done, so no snapshot
        # falls between the two.
        task = asyncio.create_task(commit_and_apply())
        self._writes.add(task)
        self._idle.clear()
        task.add_done_callback(self._write_done)
        return await _run_to_end(task)

    def _write_done(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not self._writes:
            self._idle.set()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        await self._wait_open()
        self._snapshotting = True
        self._open.clear()
        try:
            await self._idle.wait()
            yield
        finally:
            self._snapshotting = False
            self._open.set()


async def _run_to_end(task: asyncio.Task[T]) -> T:
    """Awaits a write that commits to SQL and then applies it to memory, running in a
    task of its own so that it reaches its end even if the caller is cancelled (a
    client's deadline or disconnect) between the two; a failure its caller is no
    longer there to receive is logged."""
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_log_abandoned_failure)
        raise


def _log_abandoned_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("write failed after its caller was cancelled", exc_info=task.exception())


class CostEngine:
    """Everything CostService does; tenant passed explicitly on each call."""

    def __init__(
        self,
        store: CostStore,
        price_file: Path,
        refresh_seconds: float = 5.0,
        rebuild_seconds: float = 60.0,
        metrics_limit: int = 200,
        max_budgets: int = 1000,
        tolerance_percent: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._price_file = price_file
        self._refresh_seconds = refresh_seconds
        self._rebuild_seconds = rebuild_seconds
        self._metrics_limit = metrics_limit
        self._max_budgets = max_budgets
        self._tolerance = tolerance_percent
        self._clock = clock
        self._file_prices: list[Price] = []
        self._overrides: dict[str, list[Price]] = {}
        self._tables: dict[str, PriceTable] = {}
        self._tracker = BudgetTracker()
        self._gate = SpendGate()
        self._exported: set[tuple[str, str]] = set()
        self._refresh_task: asyncio.Task[None] | None = None
        self._state_lock = asyncio.Lock()

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Migrate, load the price file (a bad one stops start-up), load state, refresh."""
        await asyncio.to_thread(self._store.migrate)
        self._file_prices = await asyncio.to_thread(load_price_file, self._price_file)
        await self.refresh()
        if self._refresh_seconds > 0:
            self._refresh_task = asyncio.create_task(self._refresh_forever())

    async def close(self) -> None:
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            await asyncio.gather(self._refresh_task, return_exceptions=True)
        for labels in self._exported:
            BUDGET_SPEND.remove(*labels)
            BUDGET_REMAINING.remove(*labels)
        self._exported = set()

    async def _refresh_forever(self) -> None:
        loop = asyncio.get_running_loop()
        rebuilt = loop.time()
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                full = loop.time() - rebuilt >= self._rebuild_seconds
                await self.refresh(full)
                if full:
                    rebuilt = loop.time()
            except Exception:
                # A database outage must not kill the loop: memory state stays as it
                # was and the next round retries.
                logger.exception("refresh of budgets and prices from SQL failed")

    async def refresh(self, full: bool = True) -> None:
        """Reload budgets and price overrides from SQL, and spend: the whole windows
        when ``full``, else only the last ``RECENT_SPEND`` (cheap, frequent).

        Spend recorded through other replicas lands in recent buckets; a record dated
        further back or a billed correction made elsewhere waits for the next full
        rebuild. A budget new to this replica is always seeded with its whole window.
        """
        # The lock keeps budget creation, deletion and price upserts from landing
        # between the SQL read and the swap, where the swap would undo them; the gate
        # keeps this replica's ledger writes out of the same span (see SpendGate).
        async with self._state_lock, self._gate.snapshot():
            known = {(budget.tenant, budget.id) for budget in self._tracker.all_budgets()}
            recent = None if full else budgeting.bucket_of(self._clock() - RECENT_SPEND)
            overrides, budgets, points = await asyncio.to_thread(self._load_state, recent, known)
            self._overrides = overrides
            self._tables = {}
            if recent is None:
                self._tracker.replace_all(budgets, points)
            else:
                self._tracker.sync_budgets(budgets, points)
                self._tracker.replace_recent(recent, points)
        self._export_gauges()

    def _load_state(
        self, recent: int | None, known: set[tuple[str, str]]
    ) -> tuple[dict[str, list[Price]], list[Budget], list[SpendPoint]]:
        overrides = {
            tenant: [price_from_fields(fields) for fields in entries]
            for tenant, entries in self._store.price_overrides().items()
        }
        tables = {
            tenant: PriceTable.of(self._file_prices, prices) for tenant, prices in overrides.items()
        }
        default = PriceTable.of(self._file_prices)
        budgets = [
            _matching(budget, tables.get(budget.tenant, default))
            for budget in self._store.all_budgets()
        ]
        now = self._clock()
        if recent is None:
            since = budgeting.earliest_window_start(budgets, now)
        else:
            new = [budget for budget in budgets if (budget.tenant, budget.id) not in known]
            since = min(
                datetime.fromtimestamp(recent, UTC), budgeting.earliest_window_start(new, now)
            )
        points = self._store.spend_points(
            since,
            sorted({budget.tenant for budget in budgets}),
            [budget.dimension for budget in budgets if budget.dimension],
        )
        keyed = [
            replace(point, dimensions=_keyed(tables.get(point.tenant, default), point.dimensions))
            for point in points
        ]
        return overrides, budgets, keyed

    async def _write_state(self, commit_and_apply: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Runs one budget or price write holding the state lock, to its end.

        Admitted once it has the lock; from then on it runs as a ledger write does
        (see _run_to_end), holding the lock until it is done, so neither another state
        write nor a refresh falls between its commit and its change to memory. A caller
        cancelled while it waits for the lock writes nothing.
        """
        await self._state_lock.acquire()
        task = asyncio.create_task(commit_and_apply())
        task.add_done_callback(lambda _: self._state_lock.release())
        return await _run_to_end(task)

    def _apply(self, tenant: str, dimensions: dict[str, str], at: datetime, micros: int) -> None:
        self._tracker.apply(tenant, _keyed(self.table(tenant), dimensions), at, micros)

    def _export_gauges(self) -> None:
        """Spend/remaining gauges for at most ``metrics_limit`` budgets (bounded labels).

        Values are computed at scrape time from memory, so a calendar window that
        resets shows zero at once, without waiting for a call or a refresh.
        """
        exported: set[tuple[str, str]] = set()
        chosen = sorted(self._tracker.all_budgets(), key=lambda b: (b.tenant, b.name))
        for budget in chosen[: self._metrics_limit]:
            labels = (budget.tenant, budget.name)
            BUDGET_SPEND.labels(*labels).set_function(self._gauge(budget.tenant, budget.id, 0))
            BUDGET_REMAINING.labels(*labels).set_function(self._gauge(budget.tenant, budget.id, 1))
            exported.add(labels)
        for labels in self._exported - exported:
            BUDGET_SPEND.remove(*labels)
            BUDGET_REMAINING.remove(*labels)
        self._exported = exported

    def _gauge(self, tenant: str, budget_id: str, index: int) -> Callable[[], float]:
        def value() -> float:
            state = self._tracker.peek(tenant, budget_id, self._clock())
            return 0.0 if state is None else state[index] / 1_000_000

        return value

    # ------------------------------------------------------------------ prices

    def table(self, tenant: str) -> PriceTable:
        """The tenant's price table: the file with the tenant's overrides on top."""
        table = self._tables.get(tenant)
        if table is None:
            table = PriceTable.of(self._file_prices, self._overrides.get(tenant, ()))
            self._tables[tenant] = table
        return table

    def estimate(
        self, tenant: str, model: str, usage: Usage, at: datetime | None, batch: bool
    ) -> Cost:
        """Cost at the price in force at ``at`` (now when None); unpriced -> zero, flagged."""
        usage.validate()
        if not model.strip():
            raise InvalidArgument("model", "is required")
        price = self.table(tenant).price_at(model, at or self._clock())
        if price is None:
            return Cost(micros=0)
        return compute_cost(price, usage, batch)

    def list_prices(
        self, tenant: str, model: str, size: int, token: str
    ) -> tuple[list[Price], str]:
        table = self.table(tenant)
        entries = table.history(model) if model else table.entries()
        limit = page_size(size)
        if token:
            after = decode_token(token)
            entries = [p for p in entries if _price_key(p) > after]
        page = entries[:limit]
        more = len(entries) > limit
        return page, encode_token(_price_key(page[-1])) if more else ""

    async def upsert_prices(self, tenant: str, entries: Sequence[dict[str, Any]]) -> int:
        if not entries:
            raise InvalidArgument("prices", "at least one entry is required")
        prices = [price_from_fields(e, f"prices[{i}].") for i, e in enumerate(entries)]
        rows = [
            (normalise_model(price.model), price.effective_from, dict(fields))
            for price, fields in zip(prices, entries, strict=True)
        ]
        replaced = {(model, day) for model, day, _ in rows}

        async def commit_and_apply() -> int:
            written = await asyncio.to_thread(self._store.upsert_prices, tenant, rows)
            kept = [
                price
                for price in self._overrides.get(tenant, [])
                if (normalise_model(price.model), price.effective_from) not in replaced
            ]
            self._overrides[tenant] = [*kept, *prices]
            self._tables.pop(tenant, None)
            return written

        return await self._write_state(commit_and_apply)

    async def reload_prices(self, tenant: str) -> int:
        """Re-read the price file; on error the old table stays and the error names the line."""
        try:
            prices = await asyncio.to_thread(load_price_file, self._price_file)
        except PriceFileError as exc:
            raise FailedPrecondition(
                f"price file not loaded, previous table kept: {exc}",
                {"line": str(exc.line)},
            ) from None
        self._file_prices = prices
        self._tables = {}
        return len(self.table(tenant))

    # ------------------------------------------------------------------ ledger

    async def record_spend(self, tenant: str, records: Sequence[SpendRecord]) -> RecordResult:
        """Price and store records (idempotent by request_id), then update budgets.

        Validation is all-or-nothing: one bad record fails the call naming it.
        """
        now = self._clock()
        table = self.table(tenant)
        entries: dict[str, LedgerEntry] = {}
        for index, record in enumerate(records):
            entry = self._ledger_entry(table, record, f"records[{index}]", now)
            entries.setdefault(entry.request_id, entry)
        if not entries:
            return RecordResult(0, len(records), 0)

        async def commit_and_apply() -> list[LedgerEntry]:
            inserted = await asyncio.to_thread(
                self._store.insert_ledger, tenant, list(entries.values())
            )
            for entry in inserted:
                self._apply(tenant, entry.dimensions, entry.timestamp, entry.effective_micros)
            return inserted

        inserted = await self._gate.write(commit_and_apply)
        unpriced = sum(not entry.priced for entry in inserted)
        return RecordResult(len(inserted), len(records) - len(inserted), unpriced)

    def _ledger_entry(
        self, table: PriceTable, record: SpendRecord, where: str, now: datetime
    ) -> LedgerEntry:
        if not record.request_id.strip():
            raise InvalidArgument(f"{where}.request_id", "is required")
        if len(record.request_id) > 128:
            raise InvalidArgument(f"{where}.request_id", "at most 128 characters")
        if not record.model.strip():
            raise InvalidArgument(f"{where}.model", "is required")
        if record.status not in STATUSES:
            raise InvalidArgument(f"{where}.status", "must be set")
        for name in (
            "model",
            "provider",
            "user_id",
            "prompt_template",
            "experiment_id",
            "variant",
            "tag",
        ):
            if len(getattr(record, name)) > MAX_FIELD_CHARS:
                raise InvalidArgument(f"{where}.{name}", f"at most {MAX_FIELD_CHARS} characters")
        if "\x00" in record.request_id:
            raise InvalidArgument(f"{where}.request_id", "must not contain NUL characters")
        record.usage.validate(f"{where}.usage")
        at = record.timestamp or now
        price = table.price_at(record.model, at)
        estimated = compute_cost(price, record.usage, record.batch).micros if price else 0
        usage = record.usage
        return LedgerEntry(
            request_id=record.request_id,
            timestamp=at,
            model=_label(record.model),
            provider=_label(record.provider),
            user_id=_label(record.user_id),
            prompt_template=_label(record.prompt_template),
            experiment_id=_label(record.experiment_id),
            variant=_label(record.variant),
            tag=_label(record.tag),
            status=record.status,
            batch=record.batch,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            reasoning_output_tokens=usage.reasoning_output_tokens,
            estimated_micros=estimated,
            billed_micros=record.billed_micros,
            priced=price is not None,
        )

    async def query_spend(
        self,
        tenant: str,
        start: datetime | None,
        end: datetime | None,
        group_by: Sequence[str],
        granularity: str | None,
        filters: Sequence[tuple[str, str]],
    ) -> list[SpendAggregate]:
        if start is not None and end is not None and end <= start:
            raise InvalidArgument("time_range.end_time", "must be after start_time")
        if len(set(group_by)) != len(group_by):
            raise InvalidArgument("group_by", "dimensions must not repeat")
        # Compared with labels as stored (NUL replaced), not as the caller spelled them.
        filters = [(name, _label(value)) for name, value in filters]
        return await asyncio.to_thread(
            self._store.query_spend, tenant, start, end, group_by, granularity, filters
        )

    # ----------------------------------------------------------------- budgets

    async def create_budget(self, tenant: str, budget: Budget) -> BudgetStatus:
        budget = Budget(
            id=uuid.uuid4().hex,
            tenant=tenant,
            name=budget.name.strip(),
            dimension=budget.dimension,
            value=budget.value,
            window=budget.window,
            limit_micros=budget.limit_micros,
            thresholds_percent=budget.thresholds_percent,
        )
        budget.validate()

        async def commit_and_apply() -> None:
            if len(self._tracker.budgets(tenant)) >= self._max_budgets:
                raise ResourceExhausted(
                    f"a tenant may have at most {self._max_budgets} budgets",
                    {"limit": str(self._max_budgets)},
                )
            await asyncio.to_thread(self._store.create_budget, budget)
            since = budget.window.bounds(self._clock())[0]
            dimensions = [budget.dimension] if budget.dimension else []
            # Seeding reads the ledger into memory as a refresh does, so a write landing
            # beside it would be seeded and added, or neither (see SpendGate).
            async with self._gate.snapshot():
                points = await asyncio.to_thread(
                    self._store.spend_points, since, [tenant], dimensions
                )
                table = self.table(tenant)
                keyed = [replace(p, dimensions=_keyed(table, p.dimensions)) for p in points]
                self._tracker.add_budget(_matching(budget, table), keyed)
            self._export_gauges()

        await self._write_state(commit_and_apply)
        return self._status(tenant, budget.id)

    def _status(self, tenant: str, budget_id: str) -> BudgetStatus:
        status = self._tracker.status(tenant, budget_id, self._clock())
        if status is None:
            raise NotFound(f"budget {budget_id!r} not found", {"id": budget_id})
        return status

    async def get_budget(self, tenant: str, budget_id: str) -> BudgetStatus:
        if not budget_id:
            raise InvalidArgument("id", "is required")
        missing = self._tracker.status(tenant, budget_id, self._clock()) is None
        if missing and await asyncio.to_thread(self._store.budget_exists, tenant, budget_id):
            # Created through another replica since the last refresh.
            await self.refresh(full=False)
        return self._status(tenant, budget_id)

    def list_budgets(self, tenant: str, size: int, token: str) -> tuple[list[BudgetStatus], str]:
        limit = page_size(size)
        statuses = sorted(
            self._tracker.statuses(tenant, self._clock()), key=lambda s: s.budget.name
        )
        if token:
            after = decode_token(token)
            statuses = [s for s in statuses if s.budget.name > after]
        page = statuses[:limit]
        more = len(statuses) > limit
        return page, encode_token(page[-1].budget.name) if more else ""

    async def delete_budget(self, tenant: str, budget_id: str) -> None:
        if not budget_id:
            raise InvalidArgument("id", "is required")

        async def commit_and_apply() -> None:
            await asyncio.to_thread(self._store.delete_budget, tenant, budget_id)
            self._tracker.remove_budget(tenant, budget_id)
            self._export_gauges()

        await self._write_state(commit_and_apply)

    def check_budget(
        self, tenant: str, dimensions: dict[str, str], expected_micros: int
    ) -> tuple[Decision, list[BudgetStatus]]:
        if expected_micros < 0:
            raise InvalidArgument("expected_cost.amount_micros", "must not be negative")
        keyed = _keyed(self.table(tenant), dimensions)
        return self._tracker.check(tenant, keyed, self._clock(), expected_micros)

    def budget_alerts(self, tenant: str) -> list[BudgetStatus]:
        """Budgets past at least one alert threshold (or their limit), most used first."""
        statuses = self._tracker.statuses(tenant, self._clock())
        alerting = [s for s in statuses if s.threshold_crossed or s.decision is Decision.DENY]
        return sorted(alerting, key=lambda s: -s.percent_used)

    # --------------------------------------------------------- reconciliation

    async def import_billed(
        self, tenant: str, amounts: Sequence[tuple[str, int]]
    ) -> tuple[int, int]:
        """Apply per-request billed amounts; returns (applied, unmatched)."""
        for index, (request_id, _) in enumerate(amounts):
            if not request_id.strip():
                raise InvalidArgument(f"amounts[{index}].request_id", "is required")
            if len(request_id) > 128 or "\x00" in request_id:
                raise InvalidArgument(
                    f"amounts[{index}].request_id", "at most 128 characters, no NUL"
                )

        async def commit_and_apply() -> list[BilledChange]:
            changes = await asyncio.to_thread(self._store.import_billed, tenant, amounts)
            for change in changes:
                if change.delta_micros:
                    self._apply(tenant, change.dimensions, change.timestamp, change.delta_micros)
            return changes

        changes = await self._gate.write(commit_and_apply)
        distinct = len({request_id for request_id, _ in amounts})
        return len(changes), distinct - len(changes)

    async def import_export(self, tenant: str, provider: str, text: str) -> int:
        rows = parse_export(provider.strip().lower(), text)
        return await asyncio.to_thread(self._store.replace_export, tenant, rows)

    async def reconciliation(
        self, tenant: str, start: datetime | None, end: datetime | None, model: str
    ) -> list[ReconciliationRow]:
        """Estimated vs billed per model and whole UTC day of the range."""
        first = _day_floor(start) if start else None
        last = _day_ceil(end) if end else None
        if first and last and last <= first:
            raise InvalidArgument("time_range.end_time", "must be after start_time")
        table = self.table(tenant)
        days, export = await asyncio.gather(
            asyncio.to_thread(self._store.ledger_days, tenant, first, last),
            asyncio.to_thread(
                self._store.export_rows,
                tenant,
                first.date().isoformat() if first else None,
                last.date().isoformat() if last else None,
            ),
        )

        def canonical(name: str) -> str:
            return table.family(name) or normalise_model(name)

        rows = reconcile(days, export, canonical, self._tolerance)
        if model:
            wanted = canonical(model)
            rows = [row for row in rows if row.model == wanted]
        return rows


def _model_key(table: PriceTable, model: str) -> str:
    """What model budgets compare: the price table's name of the model (dated snapshots,
    aliases, routing prefixes and platform or region entries fold into it), else the
    case-folded name."""
    return table.family(model) or normalise_model(model)


def _keyed(table: PriceTable, dimensions: Mapping[str, str]) -> dict[str, str]:
    keyed = dict(dimensions)
    if "model" in keyed:
        keyed["model"] = _model_key(table, keyed["model"])
    return keyed


def _matching(budget: Budget, table: PriceTable) -> Budget:
    if budget.dimension != "model":
        return budget
    return replace(budget, match=_model_key(table, budget.value))


def _label(value: str) -> str:
    """PostgreSQL text cannot hold NUL; LogSink forwards whole batches, so a label with
    one is kept with U+FFFD in its place rather than failing every record of the batch.
    """
    return value.replace("\x00", "\ufffd")


def _price_key(price: Price) -> str:
    return f"{normalise_model(price.model)}\x00{price.effective_from.isoformat()}"


def _day_floor(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


def _day_ceil(moment: datetime) -> datetime:
    floor = _day_floor(moment)
    return floor if floor == moment.astimezone(UTC) else floor + timedelta(days=1)
