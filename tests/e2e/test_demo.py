"""``bench/demo.py`` end to end, small: the whole suite, 300 calls, and the report.

At 300 calls the first half holds fewer than the 500 answers a drift baseline needs,
so the report must say so (the full ``make demo`` of 3000 calls gives a verdict;
tests/e2e/test_cli.py checks a drift verdict through the command line).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


def test_small_demo_drives_every_path_and_prints_the_report() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "demo.py"), "--calls", "300", "--workers", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = result.stdout
    assert "300/300 calls" in result.stderr  # the progress bar reached the end

    seen = report[report.index("What the application saw") : report.index("LogSink stored")]
    outcomes = {
        name: int(calls.replace(",", ""))
        for name, calls in re.findall(r"^(\S.*?)\s{2,}([\d,]+)\s+[\d.]+%$", seen, re.MULTILINE)
    }
    assert sum(outcomes.values()) == 300, outcomes
    assert outcomes["blocked by the input guard"] > 0
    assert outcomes["answered, PII redacted"] > 0
    assert outcomes["answered (streamed)"] > 0
    assert any(name.startswith("provider error") for name in outcomes)
    assert "LogSink stored 300 records" in report

    for section in (
        "Guard actions",
        "Latency of the LLM calls",
        "Cost (CostService ledger)",
        "Budgets",
        "Drift of gpt-4o-mini",
        "Experiment",
    ):
        assert section in report, section
    assert re.search(
        r"^gpt-4o-mini\s+[\d,]+\s+[\d.]+%\s+[\d.]+\s+[\d.]+\s+[\d.]+$", report, re.MULTILINE
    )
    assert re.search(r"^gpt-4o hourly\s+model=gpt-4o\s+last 1 h", report, re.MULTILINE)
    assert re.search(r"^(control|concise)\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+\$", report, re.MULTILINE)
    refused = next(line for line in report.splitlines() if line.startswith("no verdict:"))
    assert "500" in refused  # the minimum baseline size, named in DriftService's refusal
    assert "verdict: not enough data" in report
