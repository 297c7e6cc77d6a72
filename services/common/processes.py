"""Starting, waiting for and stopping service processes on this machine.

One place for what the supervisor (``services.run``), the end-to-end and fault tests
and the benchmarks all do with ``python -m services.<name>``: pick free ports, start
the process with its output in a file, wait until gRPC health says SERVING, and stop
it with SIGTERM, killing it only when it outlives its grace period.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

from services.common.healthcheck import check

# Folder under ``services`` -> the full proto name its health service reports.
SERVICES = {
    "guardrail": "llmops.v1.GuardrailService",
    "cost": "llmops.v1.CostService",
    "drift": "llmops.v1.DriftService",
    "experiment": "llmops.v1.ExperimentService",
    "logsink": "llmops.v1.LogSinkService",
}
POLL_SECONDS = 0.2


class NotServing(Exception):
    """A process exited, or its deadline passed, before it reported SERVING."""


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out; bound together so they are distinct."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def port_environment(names: Iterable[str] = SERVICES) -> dict[str, str]:
    """``LLMOPS_<NAME>_PORT`` and ``LLMOPS_<NAME>_METRICS_PORT`` on free ports for each name."""
    names = list(names)
    ports = iter(free_ports(2 * len(names)))
    env = {}
    for name in names:
        env[f"LLMOPS_{name.upper()}_PORT"] = str(next(ports))
        env[f"LLMOPS_{name.upper()}_METRICS_PORT"] = str(next(ports))
    return env


def address(env: Mapping[str, str], name: str) -> str:
    """Where service ``name`` listens on loopback under ``env``."""
    return f"127.0.0.1:{env[f'LLMOPS_{name.upper()}_PORT']}"


def start(
    module: str,
    env: Mapping[str, str],
    cwd: Path | None = None,
    log: Path | None = None,
    errors: Path | None = None,
    args: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """``python -m module *args``, output appended to ``log`` (stderr to ``errors`` if given).

    Without ``log`` the child writes to this process's stdout and stderr.
    """
    with ExitStack() as files:
        out = files.enter_context(log.open("ab")) if log is not None else None
        err = files.enter_context(errors.open("ab")) if errors is not None else out
        return subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, cwd=cwd, stdout=out, stderr=err
        )


def wait_until_serving(
    process: subprocess.Popen[bytes], target: str, service: str, deadline: float
) -> None:
    """Poll gRPC health at ``target`` until ``service`` is SERVING.

    ``process`` is what serves it (a service or the supervisor above it); raises
    ``NotServing`` when it exits first or ``deadline`` (``time.monotonic()``) passes.
    """
    while not check(target, service, timeout=1):
        if process.poll() is not None:
            raise NotServing(f"{service} at {target}: exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise NotServing(f"{service} at {target}: never became SERVING")
        time.sleep(POLL_SECONDS)


def stop(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
    return stop_all([process], timeout)[0]


def stop_all(processes: Iterable[subprocess.Popen[bytes]], timeout: float) -> list[int]:
    """SIGTERM every running process first so they shut down in parallel, then wait.

    Each gets ``timeout`` seconds from when it is waited for before it is killed;
    returns the exit codes in order.
    """
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes
