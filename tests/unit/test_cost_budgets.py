"""Budget windows, in-memory spend and decisions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import InvalidArgument
from services.cost.budgets import (
    Budget,
    BudgetTracker,
    Decision,
    SpendPoint,
    Window,
    WindowKind,
    bucket_of,
)

USER = {"model": "gpt-4o", "user": "alice", "prompt_template": "t@v1", "tag": "team-a"}


def budget(
    window: Window,
    limit: int = 1_000_000,
    dimension: str | None = "user",
    value: str = "alice",
    thresholds: tuple[float, ...] = (50, 80, 100),
    budget_id: str = "b1",
) -> Budget:
    return Budget(budget_id, "acme", budget_id, dimension, value, window, limit, thresholds)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_calendar_day_resets_at_local_midnight() -> None:
    # America/New_York in November is UTC-5: local midnight is 05:00 UTC.
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.CALENDAR_DAY, time_zone="America/New_York")))
    tracker.apply("acme", USER, utc(2026, 11, 27, 4, 30), 400_000)  # 23:30 local, Nov 26
    decision, (status,) = tracker.check("acme", USER, utc(2026, 11, 27, 4, 45))
    assert status.spent_micros == 400_000
    assert status.window_start == utc(2026, 11, 26, 5, 0)
    assert status.reset_time == utc(2026, 11, 27, 5, 0)
    decision, (status,) = tracker.check("acme", USER, utc(2026, 11, 27, 5, 0))
    assert status.spent_micros == 0
    assert decision is Decision.ALLOW


def test_calendar_day_across_dst_change_lasts_23_hours() -> None:
    # Europe/Berlin springs forward on 2026-03-29: midnight CET to midnight CEST.
    window = Window(WindowKind.CALENDAR_DAY, time_zone="Europe/Berlin")
    start, reset = window.bounds(utc(2026, 3, 29, 12, 0))
    assert start == utc(2026, 3, 28, 23, 0)
    assert reset == utc(2026, 3, 29, 22, 0)
    tracker = BudgetTracker()
    tracker.add_budget(budget(window))
    tracker.apply("acme", USER, utc(2026, 3, 29, 21, 45), 100)  # 23:45 CEST
    assert tracker.check("acme", USER, utc(2026, 3, 29, 21, 59))[1][0].spent_micros == 100
    assert tracker.check("acme", USER, utc(2026, 3, 29, 22, 0))[1][0].spent_micros == 0


def test_calendar_day_in_half_hour_zone() -> None:
    # Asia/Kolkata is UTC+5:30: midnight is 18:30 UTC, a quarter-hour bucket boundary.
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.CALENDAR_DAY, time_zone="Asia/Kolkata")))
    tracker.apply("acme", USER, utc(2026, 11, 27, 18, 29), 50)
    tracker.apply("acme", USER, utc(2026, 11, 27, 18, 30), 70)
    (status,) = tracker.check("acme", USER, utc(2026, 11, 27, 19, 0))[1]
    assert status.window_start == utc(2026, 11, 27, 18, 30)
    assert status.spent_micros == 70


def test_calendar_month_resets_on_the_first() -> None:
    window = Window(WindowKind.CALENDAR_MONTH, time_zone="Europe/Berlin")
    tracker = BudgetTracker()
    tracker.add_budget(budget(window))
    tracker.apply("acme", USER, utc(2026, 1, 31, 22, 59), 300)  # 23:59 CET, Jan 31
    (status,) = tracker.check("acme", USER, utc(2026, 1, 31, 22, 59, 30))[1]
    assert status.spent_micros == 300
    assert status.reset_time == utc(2026, 1, 31, 23, 0)
    (status,) = tracker.check("acme", USER, utc(2026, 1, 31, 23, 0))[1]
    assert status.spent_micros == 0
    assert status.reset_time == utc(2026, 2, 28, 23, 0)


def test_rolling_hours_window_slides() -> None:
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.ROLLING_HOURS, length=2)))
    tracker.apply("acme", USER, utc(2026, 11, 27, 10, 0), 100)
    tracker.apply("acme", USER, utc(2026, 11, 27, 11, 0), 10)
    assert tracker.check("acme", USER, utc(2026, 11, 27, 11, 59))[1][0].spent_micros == 110
    assert tracker.check("acme", USER, utc(2026, 11, 27, 12, 15))[1][0].spent_micros == 10
    (status,) = tracker.check("acme", USER, utc(2026, 11, 27, 13, 15))[1]
    assert status.spent_micros == 0
    assert status.reset_time is None


def test_rolling_days_window() -> None:
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.ROLLING_DAYS, length=7)))
    tracker.apply("acme", USER, utc(2026, 11, 20, 12, 0), 5)
    assert tracker.check("acme", USER, utc(2026, 11, 27, 11, 0))[1][0].spent_micros == 5
    assert tracker.check("acme", USER, utc(2026, 11, 27, 12, 15))[1][0].spent_micros == 0


@pytest.mark.parametrize(
    ("spent", "expected", "decision", "crossed"),
    [
        (400_000, 0, Decision.ALLOW, 0),
        (500_000, 0, Decision.WARN, 50),
        (850_000, 0, Decision.WARN, 80),
        (999_999, 0, Decision.WARN, 80),
        (1_000_000, 0, Decision.DENY, 100),
        (700_000, 300_000, Decision.DENY, 100),
        (700_000, 200_000, Decision.WARN, 80),
    ],
)
def test_decision_thresholds(spent: int, expected: int, decision: Decision, crossed: float) -> None:
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.CALENDAR_MONTH)))
    now = utc(2026, 11, 27, 12)
    tracker.apply("acme", USER, now, spent)
    got, (status,) = tracker.check("acme", USER, now, expected)
    assert got is decision
    assert status.threshold_crossed == crossed
    assert status.spent_micros == spent
    assert status.remaining_micros == 1_000_000 - spent


def test_strongest_decision_over_covering_budgets_only() -> None:
    tracker = BudgetTracker()
    month = Window(WindowKind.CALENDAR_MONTH)
    tracker.add_budget(budget(month, limit=100, budget_id="user"))
    tracker.add_budget(budget(month, limit=10_000, dimension=None, value="", budget_id="tenant"))
    tracker.add_budget(budget(month, limit=1, dimension="model", value="o3", budget_id="o3"))
    now = utc(2026, 11, 27, 12)
    tracker.apply("acme", USER, now, 100)
    decision, statuses = tracker.check("acme", USER, now)
    assert decision is Decision.DENY
    assert {s.budget.id for s in statuses} == {"user", "tenant"}
    other = {**USER, "user": "bob"}
    decision, statuses = tracker.check("acme", other, now)
    assert decision is Decision.ALLOW
    assert [s.budget.id for s in statuses] == ["tenant"]
    assert tracker.check("globex", USER, now) == (Decision.ALLOW, [])


def test_rebuild_from_ledger_points() -> None:
    tracker = BudgetTracker()
    now = utc(2026, 11, 27, 12)
    points = [
        SpendPoint("acme", bucket_of(now), USER, 40),
        SpendPoint("acme", bucket_of(now - timedelta(days=40)), USER, 1_000),
        SpendPoint("acme", bucket_of(now), {**USER, "user": "bob"}, 7),
        SpendPoint("globex", bucket_of(now), USER, 9),
    ]
    tracker.replace_all([budget(Window(WindowKind.CALENDAR_MONTH))], points)
    assert tracker.check("acme", USER, now)[1][0].spent_micros == 40


def test_recent_refresh_replaces_only_recent_buckets() -> None:
    tracker = BudgetTracker()
    tracker.add_budget(budget(Window(WindowKind.CALENDAR_MONTH)))
    now = utc(2026, 11, 27, 12)
    old, recent = now - timedelta(hours=5), now - timedelta(minutes=20)
    tracker.apply("acme", USER, old, 100)
    tracker.apply("acme", USER, recent, 10)
    assert tracker.check("acme", USER, now)[1][0].spent_micros == 110
    since = bucket_of(now - timedelta(hours=1))
    # SQL knows the local 10 plus 7 recorded through another replica, and an old
    # point the recent refresh must not touch (the full rebuild owns it).
    points = [
        SpendPoint("acme", bucket_of(recent), USER, 17),
        SpendPoint("acme", bucket_of(old), USER, 999),
        SpendPoint("acme", bucket_of(recent), {**USER, "user": "bob"}, 5),
    ]
    tracker.replace_recent(since, points)
    assert tracker.check("acme", USER, now)[1][0].spent_micros == 117


def test_sync_keeps_tracked_budgets_seeds_new_ones_and_drops_deleted() -> None:
    tracker = BudgetTracker()
    month = Window(WindowKind.CALENDAR_MONTH)
    now = utc(2026, 11, 27, 12)
    tracker.add_budget(budget(month, budget_id="kept"))
    tracker.add_budget(budget(month, budget_id="deleted"))
    tracker.apply("acme", USER, now, 40)
    points = [SpendPoint("acme", bucket_of(now), USER, 1_000)]
    tracker.sync_budgets([budget(month, budget_id="kept"), budget(month, budget_id="new")], points)
    spent = {s.budget.id: s.spent_micros for s in tracker.check("acme", USER, now)[1]}
    assert spent == {"kept": 40, "new": 1_000}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "budget.name"),
        ({"limit_micros": 0}, "budget.limit.amount_micros"),
        ({"dimension": "colour"}, "budget.dimension"),
        ({"value": ""}, "budget.value"),
        ({"thresholds_percent": (80, 50)}, "budget.alert_thresholds_percent"),
        ({"thresholds_percent": (-1,)}, "budget.alert_thresholds_percent"),
        ({"window": Window(WindowKind.ROLLING_HOURS, 0)}, "budget.window.length"),
        (
            {"window": Window(WindowKind.CALENDAR_DAY, time_zone="Mars/Olympus")},
            "budget.window.time_zone",
        ),
    ],
)
def test_invalid_budget_names_field(changes: dict[str, object], field: str) -> None:
    bad = dataclasses.replace(budget(Window(WindowKind.CALENDAR_DAY)), **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument) as caught:
        bad.validate()
    assert caught.value.field == field
