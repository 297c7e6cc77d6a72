"""A real Prometheus server scrapes a real LogSink process fed with known traffic.

LogSink turns every stored record into the LLM metrics; Prometheus (Debian's
``prometheus`` package, installed by ``make tools``) scrapes them every second. The
quantiles are then asked of Prometheus with ``histogram_quantile`` over the raw
cumulative buckets (no ``rate``, so the answer does not depend on scrape timing)
and compared with values worked out by hand from LogSink's bucket layout
(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60 s) by linear interpolation inside a bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf.timestamp_pb2 import Timestamp
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc

from services.common import processes
from services.common.processes import SERVICES, free_ports
from tests.support.processes import wait_serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

PROMETHEUS = shutil.which("prometheus")
STARTUP_SECONDS = 120
SCRAPE_WAIT_SECONDS = 20
MODEL = "e2e-model"


@dataclass(frozen=True)
class Endpoints:
    grpc_port: int
    metrics_port: int
    prometheus_url: str


def _wait_for(condition: Callable[[], bool], seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s; log:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def endpoints(tmp_path: Path) -> Iterator[Endpoints]:
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed: run `make tools`")
    grpc_port, metrics_port, web_port = free_ports(3)
    env = {
        **os.environ,
        "LLMOPS_LOGSINK_PORT": str(grpc_port),
        "LLMOPS_LOGSINK_METRICS_PORT": str(metrics_port),
        "LLMOPS_DATABASE_URL": f"sqlite:///{tmp_path}/llmops.db",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path}/objects",
        "LLMOPS_GRACE_SECONDS": "2",
    }
    logsink_log = tmp_path / "logsink.log"
    logsink = processes.start("services.logsink", env, tmp_path, logsink_log)
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {"job_name": "logsink", "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    prometheus_log = tmp_path / "prometheus.log"
    with prometheus_log.open("wb") as log:
        prometheus = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{web_port}",
            ],
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{web_port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        wait_serving(logsink, f"127.0.0.1:{grpc_port}", SERVICES["logsink"], deadline, logsink_log)
        _wait_for(lambda: _ready(url), STARTUP_SECONDS, "Prometheus not ready", prometheus_log)
        yield Endpoints(grpc_port, metrics_port, url)
    finally:
        processes.stop_all([prometheus, logsink], 15)


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    with urllib.request.urlopen(
        f"{url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=5
    ) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _scalar(url: str, expr: str) -> float | None:
    result = _query(url, expr)
    return float(result[0]["value"][1]) if result else None


def _record(
    template: str, latency_ms: float, status: int, error_type: str = ""
) -> common_pb2.CallRecord:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return common_pb2.CallRecord(
        request_id=str(uuid.uuid4()),
        timestamp=timestamp,
        model=MODEL,
        prompt_template=template,
        usage=common_pb2.TokenUsage(input_tokens=300, output_tokens=80),
        latency_ms=latency_ms,
        status=status,
        error_type=error_type,
    )


def test_histogram_quantile_of_scraped_llm_metrics_matches_hand_computed_values(
    endpoints: Endpoints,
) -> None:
    success = common_pb2.CALL_STATUS_SUCCESS
    # Template "chat": 100 calls; cumulative buckets le=0.1: 20, 0.25: 50, 0.5: 80, 2: 100.
    chat = (
        [_record("chat", 50, success) for _ in range(20)]
        + [_record("chat", 200, success) for _ in range(30)]
        + [_record("chat", 400, success) for _ in range(30)]
        + [_record("chat", 1500, success) for _ in range(20)]
    )
    # Template "report": 10 failed calls of 7 s, all in the (5, 10] bucket.
    report = [
        _record("report", 7000, common_pb2.CALL_STATUS_ERROR, "rate_limit") for _ in range(10)
    ]
    with grpc.insecure_channel(f"127.0.0.1:{endpoints.grpc_port}") as channel:
        stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
        batches = [
            logsink_pb2.WriteRecordsRequest(records=chat[:60]),
            logsink_pb2.WriteRecordsRequest(records=chat[60:] + report),
        ]
        summary = stub.WriteRecords(iter(batches), timeout=30)
    assert (summary.received, summary.stored, len(summary.rejected)) == (110, 110, 0)

    url = endpoints.prometheus_url
    count = f'sum(llm_call_duration_seconds_count{{model="{MODEL}"}})'
    deadline = time.monotonic() + SCRAPE_WAIT_SECONDS
    while _scalar(url, count) != 110:
        assert time.monotonic() < deadline, "Prometheus never scraped the 110 calls"
        time.sleep(0.5)

    def quantile(q: float, template: str) -> float | None:
        return _scalar(
            url,
            f"histogram_quantile({q}, sum by (le) (llm_call_duration_seconds_bucket"
            f'{{model="{MODEL}",prompt_template="{template}"}}))',
        )

    # rank = q * 100; value = lower + (upper - lower) * (rank - below) / (in bucket)
    assert quantile(0.10, "chat") == pytest.approx(0.0 + 0.1 * (10 - 0) / 20)  # 0.05
    assert quantile(0.30, "chat") == pytest.approx(0.1 + 0.15 * (30 - 20) / 30)  # 0.15
    assert quantile(0.50, "chat") == pytest.approx(0.1 + 0.15 * (50 - 20) / 30)  # 0.25
    assert quantile(0.90, "chat") == pytest.approx(1.0 + 1.0 * (90 - 80) / 20)  # 1.5
    assert quantile(0.99, "chat") == pytest.approx(1.0 + 1.0 * (99 - 80) / 20)  # 1.95
    # "report": rank 5 of 10, all in (5, 10].
    assert quantile(0.50, "report") == pytest.approx(5.0 + 5.0 * 5 / 10)  # 7.5

    # Per model and template in one query: one series per template.
    grouped = _query(
        url,
        "histogram_quantile(0.9, sum by (model, prompt_template, le) "
        f'(llm_call_duration_seconds_bucket{{model="{MODEL}"}}))',
    )
    by_template = {r["metric"]["prompt_template"]: float(r["value"][1]) for r in grouped}
    assert by_template == pytest.approx({"chat": 1.5, "report": 5.0 + 5.0 * 9 / 10})

    # Tokens: all 110 calls have 300 input tokens, bucket (250, 500]: rank 55 of 110.
    tokens = _scalar(
        url,
        "histogram_quantile(0.5, sum by (le) "
        f'(llm_tokens_bucket{{model="{MODEL}",direction="input"}}))',
    )
    assert tokens == pytest.approx(250 + 250 * 55 / 110)  # 375
    errors = f'sum by (error_type) (llm_errors_total{{model="{MODEL}"}})'
    assert {r["metric"]["error_type"]: float(r["value"][1]) for r in _query(url, errors)} == {
        "rate_limit": 10.0
    }
