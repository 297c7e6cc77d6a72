"""The ``llmops`` command line against the whole suite running as real processes.

The five services run under ``python -m services.run`` on SQLite and a local object
store, with LogSink forwarding to Cost, Experiment and Drift as in production. The
commands run in-process through ``llmops.cli.main`` (one run goes through the
installed console script) and their tables and ``--json`` output are checked.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from llmops import cli
from llmops.v1 import common_pb2, drift_pb2, drift_pb2_grpc, logsink_pb2, logsink_pb2_grpc

from services.common import processes
from services.common.processes import free_ports
from tests.support.policies import pattern_only_policies
from tests.support.processes import STARTUP_SECONDS, suite_environment

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TENANT = "cli"


@dataclass
class Suite:
    env: dict[str, str]

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.env[f'LLMOPS_{name.upper()}_PORT']}"

    def flags(self) -> list[str]:
        flags = [f"--{name}={self.address(name)}" for name in cli.SERVICES]
        return [*flags, "--tenant", TENANT]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    tmp = tmp_path_factory.mktemp("cli-e2e")
    env = suite_environment(tmp)
    env.update(
        {
            "LLMOPS_GUARDRAIL_POLICY_FILE": str(pattern_only_policies(tmp)),
            "LLMOPS_LOGSINK_FORWARD_INTERVAL_SECONDS": "0.2",
            "LLMOPS_LOGSINK_DRIFT_SAMPLE_RATE": "1.0",
        }
    )
    for name in ("cost", "experiment", "drift"):
        env[f"LLMOPS_LOGSINK_{name.upper()}_ADDRESS"] = (
            f"127.0.0.1:{env[f'LLMOPS_{name.upper()}_PORT']}"
        )
    supervisor = processes.start("services.run", env, tmp, tmp / "supervisor.log")
    suite = Suite(env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "llmops is running" not in (tmp / "supervisor.log").read_text():
            assert supervisor.poll() is None, (tmp / "supervisor.log").read_text()
            assert time.monotonic() < deadline, "the suite never started"
            time.sleep(0.2)
        yield suite
    finally:
        processes.stop(supervisor, 30)


@pytest.fixture
def llmops(suite: Suite, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        out = io.StringIO()
        code = cli.main([*suite.flags(), *argv], out=out)
        return Run(code, out.getvalue(), capsys.readouterr().err)

    return run


def make_record(**fields: Any) -> common_pb2.CallRecord:
    defaults: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "model": "gpt-4o-mini",
        "provider": "openai",
        "prompt_template": "support@v1",
        "latency_ms": 100.0,
        "status": common_pb2.CALL_STATUS_SUCCESS,
        "user_id": "u-1",
        "response_text": "Refunds go back to the card you paid with.",
    }
    record = common_pb2.CallRecord(**{**defaults, **fields})
    record.timestamp.GetCurrentTime()
    record.usage.input_tokens = 1000
    record.usage.output_tokens = 500
    return record


@pytest.fixture(scope="module")
def records(suite: Suite) -> list[common_pb2.CallRecord]:
    """Twenty records in LogSink: two models, latencies 10..200 ms, one error."""
    shipped = [
        make_record(model="gpt-4o" if i % 2 else "gpt-4o-mini", latency_ms=10.0 * (i + 1))
        for i in range(20)
    ]
    shipped[3].status = common_pb2.CALL_STATUS_ERROR
    shipped[3].error_type = "rate_limit"
    with grpc.insecure_channel(suite.address("logsink")) as channel:
        response = logsink_pb2_grpc.LogSinkServiceStub(channel).WriteRecords(
            iter([logsink_pb2.WriteRecordsRequest(records=shipped)]),
            metadata=(("x-llmops-tenant", TENANT),),
            timeout=30,
        )
    assert response.stored == len(shipped)
    return shipped


def test_status_lists_every_service_as_serving_with_its_address(
    suite: Suite, llmops: Callable[..., Run]
) -> None:
    run = llmops("status")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["service", "address", "status", "latency"]
    for name in cli.SERVICES:
        row = next(line for line in lines if line.startswith(name + " "))
        assert suite.address(name) in row
        assert "SERVING" in row
        assert row.endswith(" ms")
    as_json = llmops("status", "--json").json()
    assert [entry["status"] for entry in as_json] == ["SERVING"] * len(cli.SERVICES)
    assert all(entry["latency_ms"] > 0 for entry in as_json)


def test_status_reports_a_stopped_service_as_down_and_exits_non_zero(
    llmops: Callable[..., Run],
) -> None:
    (dead,) = free_ports(1)
    run = llmops("--json", "status", f"--drift=127.0.0.1:{dead}")
    assert run.code == 1
    by_name = {entry["service"]: entry for entry in run.json()}
    assert by_name["drift"] == {
        "service": "drift",
        "address": f"127.0.0.1:{dead}",
        "status": "DOWN",
        "latency_ms": None,
    }
    assert by_name["cost"]["status"] == "SERVING"


def test_unreachable_service_gives_one_line_error_and_exit_status_1(
    llmops: Callable[..., Run],
) -> None:
    (dead,) = free_ports(1)
    run = llmops("records", "list", "--logsink", f"127.0.0.1:{dead}")
    assert run.code == 1
    assert run.out == ""
    assert run.err == f"llmops: logsink at 127.0.0.1:{dead} is not reachable\n"


def test_records_list_shows_newest_first_with_filters_and_json(
    records: list[common_pb2.CallRecord], llmops: Callable[..., Run]
) -> None:
    table = llmops("records", "list", "--limit", "5")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].startswith("time (UTC)")
    assert len(lines) == 2 + 5 + 1
    assert lines[-1] == "5 records (more with --limit)"

    errors = llmops("records", "list", "--status", "error", "--json").json()["records"]
    assert [r["request_id"] for r in errors] == [records[3].request_id]
    assert errors[0]["error_type"] == "rate_limit"

    every = llmops("records", "list", "--limit", "100", "--model", "gpt-4o", "--json").json()
    assert len(every["records"]) == 10
    assert {r["model"] for r in every["records"]} == {"gpt-4o"}


def test_records_get_shows_one_record_and_names_a_missing_one(
    records: list[common_pb2.CallRecord], llmops: Callable[..., Run]
) -> None:
    record = records[0]
    shown = llmops("records", "get", record.request_id, "--text")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert re.fullmatch(r"request id\s+" + record.request_id, lines[0])
    assert re.fullmatch(r"model\s+gpt-4o-mini \(openai\)", lines[3])
    assert re.search(r"^tokens\s+1000 in \(0 cached\), 500 out", shown.out, re.MULTILINE)
    assert re.search(r"^response\s+Refunds go back to the card", shown.out, re.MULTILINE)

    missing = llmops("records", "get", "no-such-record")
    assert missing.code == 1
    assert missing.err.startswith("llmops: logsink at 127.0.0.1:")
    assert "NOT_FOUND" in missing.err


def test_records_stats_groups_by_model_with_percentiles(
    records: list[common_pb2.CallRecord], llmops: Callable[..., Run]
) -> None:
    stats = llmops("records", "stats", "--by", "model", "--json").json()
    groups = {g["model"]: g for g in stats["groups"]}
    assert set(groups) == {"gpt-4o", "gpt-4o-mini"}
    assert int(groups["gpt-4o-mini"]["count"]) == 10
    assert int(groups["gpt-4o"]["error_count"]) == 1
    # gpt-4o-mini latencies: 10, 30, ..., 190 ms -> median 100 ms.
    assert groups["gpt-4o-mini"]["latency_p50_ms"] == pytest.approx(100.0)
    table = llmops("records", "stats", "--by", "model")
    assert table.code == 0
    assert "10.0%" in table.out


def spend_once_forwarded(llmops: Callable[..., Run], calls: int) -> Any:
    """``spend --by model --json`` once LogSink has forwarded ``calls`` records to Cost."""
    deadline = time.monotonic() + 30
    while True:
        spend = llmops("spend", "--by", "model", "--json").json()
        counted = sum(int(row["calls"]) for row in spend.get("rows", []))
        if counted == calls or time.monotonic() > deadline:
            assert counted == calls
            return spend
        time.sleep(0.3)


def test_spend_by_model_adds_up_forwarded_records(
    records: list[common_pb2.CallRecord], llmops: Callable[..., Run]
) -> None:
    spend = spend_once_forwarded(llmops, len(records))
    rows = {row["group_values"][0]: row for row in spend["rows"]}
    assert int(rows["gpt-4o"]["input_tokens"]) == 10 * 1000
    total = sum(int(row["cost"]["amount_micros"]) for row in spend["rows"])
    assert total == int(spend["total_cost"]["amount_micros"]) > 0

    table = llmops("spend", "--by", "model")
    assert table.out.splitlines()[-1] == f"total {cli.usd(total)}"


def test_budgets_set_replaces_by_name_and_alerts_when_spend_crosses(
    records: list[common_pb2.CallRecord], llmops: Callable[..., Run]
) -> None:
    spend_once_forwarded(llmops, len(records))
    created = llmops("budgets", "set", "team", "--limit", "1000", "--window", "rolling-days:7")
    assert created.code == 0, created.err
    assert "budget 'team' created" in created.out
    assert llmops("budgets", "alerts").out == "no budget is past an alert threshold\n"

    # Far below what the records cost: the replaced budget is in alert at once.
    replaced = llmops("budgets", "set", "team", "--limit", "0.000001", "--alerts", "50,100")
    assert "budget 'team' replaced" in replaced.out
    listed = llmops("budgets", "list", "--json").json()["budgets"]
    assert [b["budget"]["name"] for b in listed] == ["team"]
    assert listed[0]["decision"] == "BUDGET_DECISION_DENY"
    alerts = llmops("budgets", "alerts")
    assert alerts.out.splitlines()[2].split()[:2] == ["team", "tenant"]
    assert "deny" in alerts.out

    bad = llmops("budgets", "set", "x", "--limit", "ten")
    assert (bad.code, bad.err) == (2, "llmops: --limit: 'ten' is not an amount of dollars\n")


def test_experiments_create_start_results_stop(llmops: Callable[..., Run]) -> None:
    created = llmops(
        "experiments",
        "create",
        "tone",
        "--variant",
        "control:1:answer@v1",
        "--variant",
        "friendly:3:answer@v2",
        "--metric",
        "thumbs_up",
        "--kind",
        "proportion",
    )
    assert created.code == 0, created.err
    assert "experiment 'tone' created: draft" in created.out
    assert "control 25%, friendly 75%" in created.out

    started = llmops("experiments", "start", "tone", "--json").json()
    assert started["status"] == "EXPERIMENT_STATUS_RUNNING"
    listed = llmops("experiments", "list", "--status", "running", "--json").json()
    assert [e["id"] for e in listed["experiments"]] == ["tone"]

    results = llmops("experiments", "results", "tone")
    assert results.code == 0, results.err
    assert "verdict: not enough data" in results.out
    assert "sample ratio:" in results.out

    stopped = llmops("experiments", "stop", "tone")
    assert "experiment 'tone' stopped: stopped" in stopped.out

    bad = llmops("experiments", "create", "bad", "--variant", "a:0")
    assert bad.code == 1
    assert "INVALID_ARGUMENT" in bad.err
    assert "weight" in bad.err


def test_drift_baseline_from_a_file_then_check_and_monitors(
    suite: Suite, llmops: Callable[..., Run], tmp_path: Path
) -> None:
    topics = ("refunds", "shipping", "passwords", "invoices", "delivery times")
    texts = [f"Answer {i}: here is how {topics[i % 5]} work for order {i}." for i in range(500)]
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("\n".join(texts) + "\n\n")
    done = llmops("drift", "baseline", "support", "--file", str(baseline))
    assert done.code == 0, done.err
    assert "baseline of 'support' set from 500 texts" in done.out

    with grpc.insecure_channel(suite.address("drift")) as channel:
        drift_pb2_grpc.DriftServiceStub(channel).Observe(
            drift_pb2.ObserveRequest(
                monitor_id="support",
                texts=[
                    f"Henceforth clause {i} of the maritime charter binds the lessee."
                    for i in range(60)
                ],
            ),
            metadata=(("x-llmops-tenant", TENANT),),
            timeout=120,
        )
    check = llmops("drift", "check", "support")
    assert check.code == 0, check.err
    assert check.out.startswith("support: DRIFTED")
    monitors = llmops("drift", "monitors", "--json").json()["monitors"]
    support = next(m for m in monitors if m["monitor_id"] == "support")
    assert support["baseline_size"] == 500
    assert support["last_check"]["drifted"] is True

    missing = llmops("drift", "check", "nobody")
    assert missing.code == 1
    assert "NOT_FOUND" in missing.err


def test_console_script_reads_addresses_from_the_environment_and_exits_2_on_usage(
    suite: Suite,
) -> None:
    env = {
        **os.environ,
        **{f"LLMOPS_{name.upper()}_ADDRESS": suite.address(name) for name in cli.SERVICES},
    }
    script = Path(sys.executable).with_name("llmops")
    ok = subprocess.run(
        [str(script), "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert f"logsink     {suite.address('logsink')}  SERVING" in ok.stdout
    bad = subprocess.run(
        [str(script), "spend", "--by", "planet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "unknown planet" in bad.stderr
