"""All five services as real processes: health, reflection, metrics, clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.common import processes
from services.common.healthcheck import check
from services.common.processes import SERVICES
from tests.support.processes import GRACE_SECONDS, STARTUP_SECONDS, suite_environment, wait_serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRPCURL = Path(sys.executable).parent / "grpcurl"


@dataclass
class Service:
    name: str
    full_name: str
    port: int
    metrics_port: int
    process: subprocess.Popen[bytes]


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[list[Service]]:
    env = suite_environment(tmp_path)
    services = []
    for name, full_name in SERVICES.items():
        log = tmp_path / f"{name}.log"
        process = processes.start(f"services.{name}", env, log=log)
        port = int(env[f"LLMOPS_{name.upper()}_PORT"])
        metrics = int(env[f"LLMOPS_{name.upper()}_METRICS_PORT"])
        services.append(Service(name, full_name, port, metrics, process))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for service in services:
            target = processes.address(env, service.name)
            wait_serving(
                service.process,
                target,
                service.full_name,
                deadline,
                tmp_path / f"{service.name}.log",
            )
        yield services
    finally:
        for service in services:
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait()


def test_five_processes_serve_health_reflection_metrics_and_stop_cleanly(
    suite: list[Service],
) -> None:
    for service in suite:
        assert check(f"127.0.0.1:{service.port}", "", timeout=1)
        listed = subprocess.run(
            [str(GRPCURL), "-plaintext", f"127.0.0.1:{service.port}", "list"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
        assert service.full_name in listed
        url = f"http://127.0.0.1:{service.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert "llmops_rpc_duration_seconds" in response.read().decode()

    for service in suite:
        service.process.send_signal(signal.SIGTERM)
    for service in suite:
        assert service.process.wait(timeout=GRACE_SECONDS + 5) == 0, service.name


def test_invalid_port_fails_at_start_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "LLMOPS_GUARDRAIL_PORT": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "services.guardrail"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LLMOPS_GUARDRAIL_PORT" in result.stderr
    assert "'abc' is not an integer" in result.stderr


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _start_supervisor(tmp_path: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.run"],
        env=suite_environment(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    for line in process.stdout:
        if "llmops is running" in line:
            return process
        assert time.monotonic() < deadline
    pytest.fail(
        f"supervisor never reported running: {process.stderr.read() if process.stderr else ''}"
    )


def test_supervisor_reports_a_dead_service_and_stops_the_others_cleanly(tmp_path: Path) -> None:
    supervisor = _start_supervisor(tmp_path)
    children = _children(supervisor.pid)
    assert len(children) == len(SERVICES)
    os.kill(children[0], signal.SIGKILL)
    assert supervisor.wait(timeout=GRACE_SECONDS + 10) != 0
    assert supervisor.stderr is not None
    errors = supervisor.stderr.read()
    assert "guardrail (llmops.v1.GuardrailService) EXITED UNEXPECTEDLY with code -9" in errors
    # The other four were stopped through the same path as Ctrl-C, and exited 0.
    assert "stopped with exit code" not in errors
    assert "did not stop in time" not in errors
    assert not any(Path(f"/proc/{child}").exists() for child in children)
