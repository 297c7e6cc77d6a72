"""Pure parts of the ``llmops`` command line: parsing, money, tables, error lines."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from llmops import cli


def test_usd_shows_at_least_cents_and_every_micro_dollar_never_rounded() -> None:
    assert cli.usd(0) == "$0.00"
    assert cli.usd(12_500_000) == "$12.50"
    assert cli.usd(1) == "$0.000001"
    assert cli.usd(1_234_567_891) == "$1,234.567891"
    assert cli.usd(-150_000) == "-$0.15"


def test_parse_usd_is_exact_and_refuses_fractions_of_a_micro_dollar() -> None:
    assert cli.parse_usd("250") == 250_000_000
    assert cli.parse_usd("$0.1") == 100_000
    assert cli.parse_usd("0.000001") == 1
    for bad in ("ten", "0.0000001", "NaN", "inf"):
        with pytest.raises(cli.UsageError, match="--limit"):
            cli.parse_usd(bad)


def test_parse_time_reads_durations_ago_and_iso_times_in_utc() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert cli.parse_time("30m", now) == now - timedelta(minutes=30)
    assert cli.parse_time("1.5h", now) == now - timedelta(hours=1.5)
    assert cli.parse_time("7d", now) == now - timedelta(days=7)
    assert cli.parse_time("2026-11-01T08:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    offset = cli.parse_time("2026-11-01T08:00+02:00")
    assert offset.astimezone(UTC) == datetime(2026, 11, 1, 6, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="neither a duration"):
        cli.parse_time("yesterday")


def test_table_aligns_columns_and_right_aligns_the_named_ones() -> None:
    text = cli.table(["name", "calls"], [["a", "5"], ["longer", "1,234"]], right="calls")
    assert text.splitlines() == [
        "name    calls",
        "------  -----",
        "a           5",
        "longer  1,234",
    ]


def test_options_work_before_and_after_the_command() -> None:
    parser = cli.build_parser()
    before = parser.parse_args(["--json", "--tenant", "acme", "records", "list"])
    after = parser.parse_args(["records", "list", "--json", "--tenant", "acme"])
    for args in (before, after):
        assert args.json is True
        assert args.tenant == "acme"
        assert args.handler is cli.cmd_records_list


def test_budget_window_forms_and_a_clear_error_for_others() -> None:
    assert cli._parse_window("rolling-days:7", "").length == 7
    month = cli._parse_window("month", "Europe/Berlin")
    assert (month.kind, month.time_zone) == (
        cli.cost_pb2.BUDGET_WINDOW_KIND_CALENDAR_MONTH,
        "Europe/Berlin",
    )
    for bad in ("weekly", "rolling-days", "day:3", "rolling-hours:x"):
        with pytest.raises(cli.UsageError, match="--window"):
            cli._parse_window(bad, "")


class _Failed(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_service_errors_read_as_one_line_naming_service_and_address() -> None:
    down = cli.ServiceError(
        "logsink", "localhost:50055", _Failed(grpc.StatusCode.UNAVAILABLE, "x"), 10
    )
    assert str(down) == "logsink at localhost:50055 is not reachable"
    slow = cli.ServiceError("drift", "h:1", _Failed(grpc.StatusCode.DEADLINE_EXCEEDED, ""), 2.5)
    assert str(slow) == "drift at h:1 did not answer within 2.5 s"
    bad = cli.ServiceError(
        "cost", "h:2", _Failed(grpc.StatusCode.INVALID_ARGUMENT, "budget.name: is required"), 10
    )
    assert str(bad) == "cost at h:2: INVALID_ARGUMENT: budget.name: is required"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([], out=io.StringIO()) == cli.EXIT_USAGE
    assert "usage: llmops" in capsys.readouterr().err
