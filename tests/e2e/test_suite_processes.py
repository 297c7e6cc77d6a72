"""All five services as real processes: health, reflection, metrics, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = {
    "guardrail": "llmops.v1.GuardrailService",
    "cost": "llmops.v1.CostService",
    "drift": "llmops.v1.DriftService",
    "experiment": "llmops.v1.ExperimentService",
    "logsink": "llmops.v1.LogSinkService",
}
GRACE_SECONDS = 5
STARTUP_SECONDS = 180
GRPCURL = Path(sys.executable).parent / "grpcurl"


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out; bound together so they are distinct."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def suite_environment(tmp_path: Path) -> dict[str, str]:
    """An environment with every service on free ports and its data under tmp_path."""
    ports = iter(free_ports(2 * len(SERVICES)))
    env = {
        **os.environ,
        "LLMOPS_DATABASE_URL": f"sqlite:///{tmp_path}/data/llmops.db",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path}/data/objects",
        "LLMOPS_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    for name in SERVICES:
        env[f"LLMOPS_{name.upper()}_PORT"] = str(next(ports))
        env[f"LLMOPS_{name.upper()}_METRICS_PORT"] = str(next(ports))
    return env


def is_serving(port: int, service: str) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


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
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"], env=env, stdout=log, stderr=log
        )
        port = int(env[f"LLMOPS_{name.upper()}_PORT"])
        metrics = int(env[f"LLMOPS_{name.upper()}_METRICS_PORT"])
        services.append(Service(name, full_name, port, metrics, process))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        for service in services:
            while not is_serving(service.port, service.full_name):
                assert service.process.poll() is None, (
                    f"{service.name} exited: {(tmp_path / f'{service.name}.log').read_text()}"
                )
                assert time.monotonic() < deadline, f"{service.name} never became SERVING"
                time.sleep(0.2)
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
        assert is_serving(service.port, "")
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
