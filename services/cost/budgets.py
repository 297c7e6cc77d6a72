"""Budgets: windows, in-memory spend per budget, and allow/warn/deny decisions.

Pure Python, no gRPC, no SQL. Spend is kept per budget in 15-minute UTC buckets
of integer micro-USD. Fifteen minutes because every time zone in use today is a
whole number of quarter hours from UTC, so a calendar window's local midnight
(Asia/Kolkata, Asia/Kathmandu included) always starts a bucket exactly; rolling
windows are therefore exact to the quarter hour.

The tracker is mutated only from the service's event loop (RecordSpend applies
new spend, the refresh task swaps in state rebuilt from the ledger), so it
needs no lock and ``CheckBudget`` never waits on I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common.errors import InvalidArgument

BUCKET_SECONDS = 900
DIMENSIONS = ("model", "user", "prompt_template", "experiment", "variant", "tag")


class WindowKind(enum.Enum):
    ROLLING_HOURS = "rolling_hours"
    ROLLING_DAYS = "rolling_days"
    CALENDAR_DAY = "calendar_day"
    CALENDAR_MONTH = "calendar_month"


class Decision(enum.IntEnum):
    """Ordered so that the strongest decision over several budgets is ``max``."""

    ALLOW = 1
    WARN = 2
    DENY = 3


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    length: int = 0
    time_zone: str = "UTC"

    def validate(self, prefix: str = "budget.window") -> None:
        if self.kind in (WindowKind.ROLLING_HOURS, WindowKind.ROLLING_DAYS):
            if self.length <= 0:
                raise InvalidArgument(f"{prefix}.length", "rolling windows need a positive length")
            if self.hours > 24 * 366:
                raise InvalidArgument(f"{prefix}.length", "rolling windows span at most 366 days")
        zone(self.time_zone, f"{prefix}.time_zone")

    @property
    def hours(self) -> int:
        return self.length * (24 if self.kind is WindowKind.ROLLING_DAYS else 1)

    def bounds(self, now: datetime) -> tuple[datetime, datetime | None]:
        """(start, reset) of the window containing ``now``; reset is None when rolling.

        Calendar windows are computed on the local calendar: a day across a DST
        change lasts 23 or 25 hours, and the window resets at local midnight.
        """
        if self.kind in (WindowKind.ROLLING_HOURS, WindowKind.ROLLING_DAYS):
            return _floor_bucket(now - timedelta(hours=self.hours)), None
        tz = zone(self.time_zone)
        local = now.astimezone(tz).date()
        if self.kind is WindowKind.CALENDAR_DAY:
            start_day, next_day = local, local + timedelta(days=1)
        else:
            start_day = local.replace(day=1)
            next_day = (start_day + timedelta(days=32)).replace(day=1)
        return _local_midnight(start_day, tz), _local_midnight(next_day, tz)


def zone(name: str, field_name: str = "time_zone") -> ZoneInfo:
    """The IANA zone ``name`` (empty means UTC); unknown names are invalid arguments."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(field_name, f"{name!r} is not an IANA time zone") from None


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _floor_bucket(moment: datetime) -> datetime:
    seconds = int(moment.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return datetime.fromtimestamp(seconds, UTC)


def bucket_of(moment: datetime) -> int:
    """Epoch seconds of the 15-minute bucket ``moment`` falls in."""
    return int(moment.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS


@dataclass(frozen=True)
class Budget:
    """A spending limit on one dimension value (or the whole tenant when dimension is None)."""

    id: str
    tenant: str
    name: str
    dimension: str | None
    value: str
    window: Window
    limit_micros: int
    thresholds_percent: tuple[float, ...] = ()
    # The value calls are compared with, when it differs from ``value`` (the engine
    # sets a model budget's to the price table's name, so snapshots match it too).
    match: str | None = None

    def validate(self) -> None:
        if not self.name.strip():
            raise InvalidArgument("budget.name", "is required")
        if len(self.name) > 200 or not self.name.isprintable():
            raise InvalidArgument("budget.name", "printable, at most 200 characters")
        if "\x00" in self.value:
            raise InvalidArgument("budget.value", "must not contain NUL characters")
        if self.dimension is not None and self.dimension not in DIMENSIONS:
            raise InvalidArgument("budget.dimension", f"unknown dimension {self.dimension!r}")
        if self.dimension is not None and not self.value:
            raise InvalidArgument("budget.value", "is required when a dimension is set")
        if len(self.value) > 256:
            raise InvalidArgument("budget.value", "at most 256 characters")
        if self.dimension is None and self.value:
            raise InvalidArgument("budget.value", "must be empty for a tenant-wide budget")
        if self.limit_micros <= 0:
            raise InvalidArgument("budget.limit.amount_micros", "must be positive")
        thresholds = list(self.thresholds_percent)
        if any(not 0 < t <= 1000 for t in thresholds) or thresholds != sorted(set(thresholds)):
            raise InvalidArgument(
                "budget.alert_thresholds_percent", "must be ascending, distinct, in (0, 1000]"
            )
        self.window.validate()

    def covers(self, dimensions: Mapping[str, str]) -> bool:
        if self.dimension is None:
            return True
        return dimensions.get(self.dimension, "") == (
            self.value if self.match is None else self.match
        )


@dataclass(frozen=True)
class BudgetStatus:
    """Where a budget stands at one moment."""

    budget: Budget
    spent_micros: int
    remaining_micros: int
    percent_used: float
    threshold_crossed: float
    decision: Decision
    window_start: datetime
    reset_time: datetime | None


def assess(
    budget: Budget, spent: int, start: datetime, reset: datetime | None, expected: int = 0
) -> BudgetStatus:
    """Decision for ``spent`` plus the ``expected`` cost of the call about to be made:
    DENY at or above the limit, WARN past a threshold. The expected cost counts
    towards the decision and the threshold crossed, not towards reported spend.
    """
    projected = spent + expected
    projected_percent = projected * 100 / budget.limit_micros
    crossed = max((t for t in budget.thresholds_percent if projected_percent >= t), default=0.0)
    if projected >= budget.limit_micros:
        decision = Decision.DENY
    elif crossed:
        decision = Decision.WARN
    else:
        decision = Decision.ALLOW
    return BudgetStatus(
        budget=budget,
        spent_micros=spent,
        remaining_micros=max(budget.limit_micros - spent, 0),
        percent_used=spent * 100 / budget.limit_micros,
        threshold_crossed=crossed,
        decision=decision,
        window_start=start,
        reset_time=reset,
    )


@dataclass(frozen=True)
class SpendPoint:
    """Spend of one bucket and one combination of dimension values (a ledger aggregate)."""

    tenant: str
    bucket: int
    dimensions: Mapping[str, str]
    micros: int


@dataclass
class _State:
    budget: Budget
    buckets: dict[int, int] = field(default_factory=dict)
    # Window total as of the window start it was computed for: a check only sums
    # the buckets again when the window has moved (at most every 15 minutes).
    _start: int | None = None
    _total: int = 0
    # Window bounds stay the same until the next bucket (rolling) or the reset
    # (calendar), so they are computed once per period, not once per check.
    _bounds: tuple[datetime, datetime | None] | None = None
    _bounds_from: float = 0.0
    _bounds_until: float = 0.0

    def bounds(self, now: datetime) -> tuple[datetime, datetime | None]:
        moment = now.timestamp()
        if self._bounds is None or moment >= self._bounds_until or moment < self._bounds_from:
            self._bounds = self.budget.window.bounds(now)
            reset = self._bounds[1]
            self._bounds_from = moment
            self._bounds_until = (
                reset.timestamp() if reset else (moment // BUCKET_SECONDS + 1) * BUCKET_SECONDS
            )
        return self._bounds

    def add(self, bucket: int, micros: int) -> None:
        self.buckets[bucket] = self.buckets.get(bucket, 0) + micros
        if self._start is not None and bucket >= self._start:
            self._total += micros

    def peek_since(self, start: int) -> int:
        """Spend since ``start`` without touching the buckets.

        Safe from another thread (the metrics endpoint): ``list()`` copies the dict
        in one step under the GIL, and nothing here mutates it.
        """
        return sum(micros for bucket, micros in list(self.buckets.items()) if bucket >= start)

    def replace_from(self, since: int, points: Iterable[SpendPoint]) -> None:
        """Replace the buckets from ``since`` on with ``points`` (ledger aggregates)."""
        for bucket in [bucket for bucket in self.buckets if bucket >= since]:
            del self.buckets[bucket]
        self._start = None
        for point in points:
            if point.bucket >= since:
                self.add(point.bucket, point.micros)

    def spent_since(self, start: int) -> int:
        if start == self._start:
            return self._total
        # Buckets before the window are dropped here, so memory stays bounded by
        # the window length even for a budget that is never rebuilt.
        stale = [bucket for bucket in self.buckets if bucket < start]
        for bucket in stale:
            del self.buckets[bucket]
        self._start, self._total = start, sum(self.buckets.values())
        return self._total


class BudgetTracker:
    """Spend per budget in the current window, kept in memory."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, _State]] = {}

    def budgets(self, tenant: str) -> list[Budget]:
        return [state.budget for state in self._states.get(tenant, {}).values()]

    def all_budgets(self) -> list[Budget]:
        return [state.budget for states in self._states.values() for state in states.values()]

    def add_budget(self, budget: Budget, points: Iterable[SpendPoint] = ()) -> None:
        """Track ``budget``, seeded with its existing ledger spend."""
        state = _State(budget)
        for point in points:
            if point.tenant == budget.tenant and budget.covers(point.dimensions):
                state.add(point.bucket, point.micros)
        self._states.setdefault(budget.tenant, {})[budget.id] = state

    def remove_budget(self, tenant: str, budget_id: str) -> None:
        self._states.get(tenant, {}).pop(budget_id, None)

    def replace_all(self, budgets: Sequence[Budget], points: Sequence[SpendPoint]) -> None:
        """Swap in state rebuilt from the ledger (start-up and periodic refresh)."""
        by_tenant: dict[str, list[SpendPoint]] = {}
        for point in points:
            by_tenant.setdefault(point.tenant, []).append(point)
        self._states = {}
        for budget in budgets:
            self.add_budget(budget, by_tenant.get(budget.tenant, ()))

    def sync_budgets(self, budgets: Sequence[Budget], points: Sequence[SpendPoint]) -> None:
        """Track exactly ``budgets``: new ones seeded from ``points``, deleted ones dropped;
        the ones already tracked keep their state."""
        wanted = {(budget.tenant, budget.id) for budget in budgets}
        for tenant, states in self._states.items():
            for budget_id in [i for i in states if (tenant, i) not in wanted]:
                del states[budget_id]
        by_tenant: dict[str, list[SpendPoint]] = {}
        for point in points:
            by_tenant.setdefault(point.tenant, []).append(point)
        for budget in budgets:
            if budget.id not in self._states.get(budget.tenant, {}):
                self.add_budget(budget, by_tenant.get(budget.tenant, ()))

    def replace_recent(self, since: int, points: Sequence[SpendPoint]) -> None:
        """Replace every budget's buckets from ``since`` on with ledger aggregates: the
        cheap refresh, re-reading only recent spend instead of whole windows."""
        by_tenant: dict[str, list[SpendPoint]] = {}
        for point in points:
            by_tenant.setdefault(point.tenant, []).append(point)
        for tenant, states in self._states.items():
            tenant_points = by_tenant.get(tenant, [])
            for state in states.values():
                covered = [p for p in tenant_points if state.budget.covers(p.dimensions)]
                state.replace_from(since, covered)

    def apply(self, tenant: str, dimensions: Mapping[str, str], at: datetime, micros: int) -> None:
        """Add spend of one call (or a billed correction, possibly negative)."""
        bucket = bucket_of(at)
        for state in self._states.get(tenant, {}).values():
            if state.budget.covers(dimensions):
                state.add(bucket, micros)

    def status(self, tenant: str, budget_id: str, now: datetime) -> BudgetStatus | None:
        state = self._states.get(tenant, {}).get(budget_id)
        return None if state is None else self._status(state, now, 0)

    def peek(self, tenant: str, budget_id: str, now: datetime) -> tuple[int, int] | None:
        """(spent, remaining) micros in the current window, read-only (see ``peek_since``)."""
        state = self._states.get(tenant, {}).get(budget_id)
        if state is None:
            return None
        start, _ = state.budget.window.bounds(now)
        spent = state.peek_since(int(start.timestamp()))
        return spent, max(state.budget.limit_micros - spent, 0)

    def check(
        self, tenant: str, dimensions: Mapping[str, str], now: datetime, expected_micros: int = 0
    ) -> tuple[Decision, list[BudgetStatus]]:
        """The strongest decision over every budget covering the call; ALLOW if none does."""
        statuses = [
            self._status(state, now, expected_micros)
            for state in self._states.get(tenant, {}).values()
            if state.budget.covers(dimensions)
        ]
        decision = max((status.decision for status in statuses), default=Decision.ALLOW)
        return decision, statuses

    def statuses(self, tenant: str, now: datetime) -> list[BudgetStatus]:
        return [self._status(state, now, 0) for state in self._states.get(tenant, {}).values()]

    @staticmethod
    def _status(state: _State, now: datetime, expected: int) -> BudgetStatus:
        start, reset = state.bounds(now)
        spent = state.spent_since(int(start.timestamp()))
        return assess(state.budget, spent, start, reset, expected)


def earliest_window_start(budgets: Iterable[Budget], now: datetime) -> datetime:
    """The oldest moment any budget's current window reaches back to."""
    return min((budget.window.bounds(now)[0] for budget in budgets), default=now)
