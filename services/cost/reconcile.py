"""Reconciliation of ledger estimates against what providers billed; pure Python.

Two inputs: a provider's usage/cost export (CSV: day, model, input_tokens,
output_tokens, amount_usd) and per-request billed amounts already applied to the
ledger. The report compares, per model and UTC day, the ledger's estimate with
the billed amount and names the most likely cause of a gap, from evidence the
ledger and export actually hold (checked in this order):

* ``missing_price``  -- some ledger calls had no price, so their estimate is zero;
* ``not_billed``     -- nothing billed yet for a day the ledger has spend on;
* ``none``           -- the gap is within the tolerance;
* ``uncounted_calls`` / ``failed_calls`` -- the provider billed more input tokens
  than the ledger saw (calls that never reached the ledger; ``failed_calls`` when
  the ledger holds errored/timed-out calls, whose usage clients often lose);
* ``reasoning_tokens`` -- input matches but the provider billed more output
  tokens: hidden reasoning tokens were not counted;
* ``cached_tokens``  -- tokens match but the bill is lower: cache or batch
  discounts the records did not report;
* ``price_mismatch`` -- tokens match and nothing above explains it: the price
  table differs from the contract price.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from services.common.errors import InvalidArgument
from services.cost.prices import MAX_MODEL_CHARS, to_micros
from services.cost.store import ExportRow, LedgerDay

EXPORT_COLUMNS = ("day", "model", "input_tokens", "output_tokens", "amount_usd")


def parse_export(provider: str, text: str) -> list[ExportRow]:
    """Parse a billing export; errors raise INVALID_ARGUMENT naming the CSV line.

    Rows for the same day and model are summed (exports often split by project or
    API key). Extra columns are ignored.
    """
    if len(provider) > MAX_MODEL_CHARS or not provider.isprintable():
        raise InvalidArgument("provider", f"printable, at most {MAX_MODEL_CHARS} characters")
    reader = csv.reader(io.StringIO(text))
    rows = _rows(reader)
    header = next(rows, None)
    if header is None:
        raise InvalidArgument("csv", "line 1: the export is empty (a header row is required)")
    names = [name.strip().lower() for name in header]
    missing = [column for column in EXPORT_COLUMNS if column not in names]
    if missing:
        raise InvalidArgument("csv", f"line 1: missing column(s) {', '.join(missing)}")
    index = {column: names.index(column) for column in EXPORT_COLUMNS}
    totals: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise InvalidArgument("csv", f"line {line}: expected {len(names)} columns")
        cell = {column: row[position].strip() for column, position in index.items()}
        try:
            day = date.fromisoformat(cell["day"]).isoformat()
        except ValueError:
            raise InvalidArgument(
                "csv", f"line {line}: day {cell['day']!r} is not YYYY-MM-DD"
            ) from None
        if not cell["model"]:
            raise InvalidArgument("csv", f"line {line}: model is empty")
        if len(cell["model"]) > MAX_MODEL_CHARS:
            raise InvalidArgument("csv", f"line {line}: model longer than {MAX_MODEL_CHARS}")
        if not cell["model"].isprintable():
            raise InvalidArgument("csv", f"line {line}: model contains control characters")
        tokens = [_count(cell[c], c, line) for c in ("input_tokens", "output_tokens")]
        try:
            amount = Decimal(cell["amount_usd"])
        except InvalidOperation:
            raise InvalidArgument(
                "csv", f"line {line}: amount_usd {cell['amount_usd']!r} is not a number"
            ) from None
        if not amount.is_finite():
            raise InvalidArgument("csv", f"line {line}: amount_usd must be finite")
        total = totals.setdefault((day, cell["model"]), [0, 0, 0])
        total[0] += tokens[0]
        total[1] += tokens[1]
        total[2] += to_micros(amount)
    return [
        ExportRow(provider, day, model, inputs, outputs, micros)
        for (day, model), (inputs, outputs, micros) in sorted(totals.items())
    ]


def _rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; malformed CSV (a NUL byte, an oversized field) names its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidArgument("csv", f"line {reader.line_num}: {exc}") from None
        yield row


def _count(text: str, column: str, line: int) -> int:
    try:
        value = int(text or "0")
    except ValueError:
        raise InvalidArgument("csv", f"line {line}: {column} {text!r} is not an integer") from None
    if value < 0:
        raise InvalidArgument("csv", f"line {line}: {column} must not be negative")
    return value


@dataclass(frozen=True)
class ReconciliationRow:
    day: str
    model: str
    estimated_micros: int
    billed_micros: int
    gap_percent: float
    calls: int
    estimated_input_tokens: int
    billed_input_tokens: int
    estimated_output_tokens: int
    billed_output_tokens: int
    likely_cause: str


def reconcile(
    ledger_days: Sequence[LedgerDay],
    export: Sequence[ExportRow],
    canonical: Callable[[str], str],
    tolerance_percent: float,
) -> list[ReconciliationRow]:
    """One row per (day, model) present in the ledger or the export.

    ``canonical`` maps a model name to the price table's name, so a ledger that
    says "gpt-4o" and an export that says "gpt-4o-2024-08-06" meet on one row.
    Billed is the export's amount when the export has the row, else the sum of
    per-request billed amounts (zero when nothing was billed yet).
    """
    ledger_by_key: dict[tuple[str, str], list[LedgerDay]] = {}
    for entry in ledger_days:
        ledger_by_key.setdefault((entry.day, canonical(entry.model)), []).append(entry)
    export_by_key: dict[tuple[str, str], list[ExportRow]] = {}
    for row in export:
        export_by_key.setdefault((row.day, canonical(row.model)), []).append(row)
    rows = []
    for key in sorted(set(ledger_by_key) | set(export_by_key)):
        days = ledger_by_key.get(key, [])
        exported = export_by_key.get(key, [])
        ledger_total = _sum_days(days)
        if exported:
            billed = sum(row.amount_micros for row in exported)
            billed_in = sum(row.input_tokens for row in exported)
            billed_out = sum(row.output_tokens for row in exported)
        else:
            billed, billed_in, billed_out = ledger_total.billed_micros, 0, 0
        estimated = ledger_total.estimated_micros
        gap = (billed - estimated) * 100 / billed if billed else 0.0
        cause = _likely_cause(
            ledger_total,
            estimated,
            billed,
            billed_in,
            billed_out,
            bool(exported),
            tolerance_percent,
        )
        rows.append(
            ReconciliationRow(
                day=key[0],
                model=key[1],
                estimated_micros=estimated,
                billed_micros=billed,
                gap_percent=gap,
                calls=ledger_total.calls,
                estimated_input_tokens=ledger_total.input_tokens,
                billed_input_tokens=billed_in,
                estimated_output_tokens=ledger_total.output_tokens,
                billed_output_tokens=billed_out,
                likely_cause=cause,
            )
        )
    return rows


def _sum_days(days: Sequence[LedgerDay]) -> LedgerDay:
    fields = (
        "calls",
        "estimated_micros",
        "billed_micros",
        "billed_calls",
        "unpriced_calls",
        "failed_calls",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "reasoning_output_tokens",
    )
    totals = {name: sum(getattr(day, name) for day in days) for name in fields}
    return LedgerDay(day="", model="", **totals)


def _likely_cause(
    ledger: LedgerDay,
    estimated: int,
    billed: int,
    billed_in: int,
    billed_out: int,
    has_tokens: bool,
    tolerance_percent: float,
) -> str:
    if ledger.unpriced_calls:
        return "missing_price"
    if not billed:
        return "not_billed" if estimated else "none"
    if abs(billed - estimated) <= abs(billed) * tolerance_percent / 100:
        return "none"
    if not ledger.calls:
        return "uncounted_calls"
    if has_tokens:
        if _above(billed_in, ledger.input_tokens, tolerance_percent):
            return "failed_calls" if ledger.failed_calls else "uncounted_calls"
        if _above(billed_out, ledger.output_tokens, tolerance_percent):
            return "reasoning_tokens"
    if billed < estimated:
        return "cached_tokens"
    return "price_mismatch"


def _above(billed: int, counted: int, tolerance_percent: float) -> bool:
    return billed > counted * (1 + tolerance_percent / 100)
