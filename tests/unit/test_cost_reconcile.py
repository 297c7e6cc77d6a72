"""Reconciliation of ledger estimates with a provider export (tests/data sample)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import InvalidArgument
from services.cost.prices import PriceTable, load_price_file
from services.cost.reconcile import parse_export, reconcile
from services.cost.settings import BUNDLED_PRICE_FILE
from services.cost.store import ExportRow, LedgerDay

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "cost_billing_export.csv"
TABLE = PriceTable.of(load_price_file(BUNDLED_PRICE_FILE))


def canonical(model: str) -> str:
    return TABLE.canonical(model) or model


def day(
    model: str, calls: int, estimated: int, inputs: int, outputs: int, **extra: int
) -> LedgerDay:
    fields = {
        "billed_micros": 0,
        "billed_calls": 0,
        "unpriced_calls": 0,
        "failed_calls": 0,
        "cache_read_input_tokens": 0,
        "reasoning_output_tokens": 0,
        **extra,
    }
    return LedgerDay(
        day="2026-11-01",
        model=model,
        calls=calls,
        estimated_micros=estimated,
        input_tokens=inputs,
        output_tokens=outputs,
        **fields,
    )


def test_parse_sample_export_sums_projects_per_day_and_model() -> None:
    rows = parse_export("openai", SAMPLE.read_text())
    by_model = {(row.day, row.model): row for row in rows}
    gpt4o = by_model[("2026-11-01", "gpt-4o-2024-08-06")]
    assert (gpt4o.input_tokens, gpt4o.output_tokens, gpt4o.amount_micros) == (
        100_000,
        20_000,
        450_000,
    )
    assert by_model[("2026-11-02", "gpt-4.1-mini")].amount_micros == 600_000
    assert len(rows) == 7
    assert all(row.provider == "openai" for row in rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1"),
        ("day,model,amount_usd\n", "line 1: missing column(s) input_tokens, output_tokens"),
        (
            "day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,1,1,0.1\n"
            "2026-11-32,a,1,1,0.1\n",
            "line 3: day",
        ),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,-1,1,0.1\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,1,1,abc\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,,1,1,1\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,1\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,1.5,1,1\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a\x00,1,1,1\n", "line 2"),
        ("day,model,input_tokens,output_tokens,amount_usd\n2026-11-01,a,1,1,nan\n", "line 2"),
    ],
)
def test_bad_export_names_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_export("openai", text)
    assert caught.value.field == "csv"
    assert message in caught.value.message


def test_report_on_sample_export_names_likely_causes() -> None:
    export = parse_export("openai", SAMPLE.read_text())
    ledger = [
        # Estimates computed by hand from the bundled prices (micro-USD):
        # gpt-4o: 100,000 x 2.50 + 20,000 x 10.00 = 450,000 -> matches the bill.
        day("gpt-4o", 10, 450_000, 100_000, 20_000),
        # gpt-4o-mini: 50,000 x 0.15 + 5,000 x 0.60 = 10,500; the bill has 80,000 input.
        day("gpt-4o-mini", 5, 10_500, 50_000, 5_000),
        # o4-mini: 10,000 x 1.10 + 1,000 x 4.40 = 15,400; the bill has 5,000 output.
        day("o4-mini", 3, 15_400, 10_000, 1_000),
        # gpt-4.1: 100,000 x 2.00 + 10,000 x 8.00 = 280,000; billed 205,000 for equal tokens.
        day("gpt-4.1", 4, 280_000, 100_000, 10_000),
        # llama: no price, estimated zero.
        day("llama-3.1-70b", 2, 0, 1_000, 1_000, unpriced_calls=2),
    ]
    rows = {(row.day, row.model): row for row in reconcile(ledger, export, canonical, 2.0)}
    assert rows[("2026-11-01", "gpt-4o")].likely_cause == "none"
    assert rows[("2026-11-01", "gpt-4o")].gap_percent == 0
    mini = rows[("2026-11-01", "gpt-4o-mini")]
    assert mini.likely_cause == "uncounted_calls"
    assert (mini.estimated_micros, mini.billed_micros) == (10_500, 15_600)
    assert mini.gap_percent == pytest.approx((15_600 - 10_500) * 100 / 15_600)
    assert (mini.estimated_input_tokens, mini.billed_input_tokens) == (50_000, 80_000)
    assert rows[("2026-11-01", "o4-mini")].likely_cause == "reasoning_tokens"
    assert rows[("2026-11-01", "gpt-4.1")].likely_cause == "cached_tokens"
    assert rows[("2026-11-01", "llama-3.1-70b")].likely_cause == "missing_price"
    only_billed = rows[("2026-11-01", "claude-sonnet-4")]
    assert (only_billed.calls, only_billed.likely_cause) == (0, "uncounted_calls")
    assert rows[("2026-11-02", "gpt-4.1-mini")].likely_cause == "uncounted_calls"
    assert list(rows) == sorted(rows)


def test_failed_calls_and_price_mismatch_and_not_billed() -> None:
    export = [
        ExportRow("openai", "2026-11-01", "gpt-4o", 2_000, 100, 6_000),
        ExportRow("openai", "2026-11-01", "gpt-4.1", 1_000, 100, 9_000),
    ]
    ledger = [
        day("gpt-4o", 3, 3_500, 1_000, 100, failed_calls=1),
        day("gpt-4.1", 1, 2_800, 1_000, 100),
        day("gpt-5", 1, 5_000, 1_000, 100),
    ]
    rows = {row.model: row for row in reconcile(ledger, export, canonical, 2.0)}
    assert rows["gpt-4o"].likely_cause == "failed_calls"
    assert rows["gpt-4.1"].likely_cause == "price_mismatch"
    assert rows["gpt-5"].likely_cause == "not_billed"
    assert rows["gpt-5"].gap_percent == 0


def test_per_request_billed_amounts_without_export() -> None:
    ledger = [day("gpt-4o", 2, 10_000, 1_000, 100, billed_micros=9_000, billed_calls=2)]
    (row,) = reconcile(ledger, [], canonical, 2.0)
    assert row.billed_micros == 9_000
    assert row.likely_cause == "cached_tokens"
    assert row.gap_percent == pytest.approx(-1_000 * 100 / 9_000)
