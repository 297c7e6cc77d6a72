"""Run the whole suite on one machine: ``python -m services.run`` (what ``make run`` does).

Starts the five services as separate child processes with the same environment
(embedded defaults: SQLite file and object folder under ``./data``), waits until
each reports SERVING over gRPC health, prints where each one listens, and stops
them all cleanly on Ctrl-C or SIGTERM.

If a child dies on its own, the supervisor says so loudly, stops the others and
exits non-zero instead of restarting it: on a laptop a crash should be seen and
fixed, and in production restarting is the job of docker-compose or Kubernetes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from services.common import processes
from services.common.healthcheck import check
from services.common.processes import SERVICES
from services.common.settings import CommonSettings, SettingsError, load_settings
from services.cost.settings import CostSettings
from services.drift.settings import DriftSettings
from services.experiment.settings import ExperimentSettings
from services.guardrail.settings import GuardrailSettings
from services.logsink.settings import LogSinkSettings

SETTINGS: dict[str, type[CommonSettings]] = {
    "guardrail": GuardrailSettings,
    "cost": CostSettings,
    "drift": DriftSettings,
    "experiment": ExperimentSettings,
    "logsink": LogSinkSettings,
}
# Generous: the drift service loads an embedding model before it serves.
STARTUP_TIMEOUT_SECONDS = 180.0
EXIT_CHILD_FAILED = 1
EXIT_CONFIG_ERROR = 2


@dataclass
class Child:
    """One service process and where it listens."""

    name: str
    service_name: str
    settings: CommonSettings
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return _address(self.settings)

    @property
    def metrics_url(self) -> str:
        host = self.address.rsplit(":", 1)[0]
        return f"http://{host}:{self.settings.metrics_port}/metrics"


def _address(settings: CommonSettings) -> str:
    """Where a child can be reached on this machine, whatever interface it binds."""
    host = settings.host.strip("[]")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"


def main() -> int:
    try:
        configs = [(name, full, load_settings(SETTINGS[name])) for name, full in SERVICES.items()]
    except SettingsError as exc:
        print(f"llmops: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    for _, _, settings in configs:
        _make_local_folders(settings)

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    env = _suite_environment({name: _address(settings) for name, _, settings in configs})
    children = [
        Child(name, full, settings, processes.start(f"services.{name}", env))
        for name, full, settings in configs
    ]
    failed: Child | None = None
    try:
        failed = _wait_until_serving(children, stop)
        if failed is None and not stop.is_set():
            _print_endpoints(children)
            failed = _watch(children, stop)
    finally:
        clean = _stop_all(children, max(c.settings.grace_seconds for c in children), failed)
    if failed is not None:
        return EXIT_CHILD_FAILED
    return 0 if clean else EXIT_CHILD_FAILED


def _make_local_folders(settings: CommonSettings) -> None:
    """Create ./data (or wherever the embedded defaults point) before the children race."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    if settings.object_store.startswith("file:"):
        Path(settings.object_store.removeprefix("file:")).mkdir(parents=True, exist_ok=True)


# Wiring between the services: LogSink forwards records to the ledger, the
# experiments and the drift monitors, and Drift reads baselines from LogSink.
_LINKS = {
    "LLMOPS_LOGSINK_COST_ADDRESS": "cost",
    "LLMOPS_LOGSINK_EXPERIMENT_ADDRESS": "experiment",
    "LLMOPS_LOGSINK_DRIFT_ADDRESS": "drift",
    "LLMOPS_DRIFT_LOGSINK_ADDRESS": "logsink",
}


def _suite_environment(addresses: dict[str, str]) -> dict[str, str]:
    """The children's environment: the caller's, plus the links between siblings.

    Started together, the services should work together: spend, experiment
    outcomes and drift follow from the records with no further setup. A link the
    caller set explicitly (even to empty, which disables it) is kept.
    """
    env = os.environ.copy()
    for variable, target in _LINKS.items():
        env.setdefault(variable, addresses[target])
    return env


def _wait_until_serving(children: list[Child], stop: threading.Event) -> Child | None:
    """Block until every child is SERVING; return the first one that died meanwhile."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    pending = list(children)
    while pending and not stop.is_set():
        for child in list(pending):
            if child.process.poll() is not None:
                _report_death(child)
                return child
            if _is_serving(child):
                pending.remove(child)
        if time.monotonic() > deadline:
            names = ", ".join(c.name for c in pending)
            print(
                f"llmops: not SERVING after {STARTUP_TIMEOUT_SECONDS:.0f} s: {names}",
                file=sys.stderr,
            )
            return pending[0]
        stop.wait(0.2)
    return None


def _is_serving(child: Child) -> bool:
    if child.settings.tls_cert_file is not None:
        # With TLS (maybe mutual) the supervisor holds no client identity; a
        # listening port is the best readiness signal it can get.
        host, _, port = child.address.rpartition(":")
        with (
            contextlib.suppress(OSError),
            socket.create_connection((host.strip("[]"), int(port)), 1),
        ):
            return True
        return False
    return check(child.address, child.service_name, timeout=1)


def _print_endpoints(children: list[Child]) -> None:
    rows = [("service", "gRPC endpoint", "metrics")]
    rows += [(c.service_name, c.address, c.metrics_url) for c in children]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    print(
        "\nllmops is running; Ctrl-C stops every service.\n" + "\n".join(lines) + "\n", flush=True
    )


def _watch(children: list[Child], stop: threading.Event) -> Child | None:
    """Wait for a stop request; return the first child that exits on its own."""
    while not stop.wait(0.2):
        for child in children:
            if child.process.poll() is not None:
                _report_death(child)
                return child
    return None


def _report_death(child: Child) -> None:
    print(
        f"\n!!! llmops: {child.name} ({child.service_name}) EXITED UNEXPECTEDLY "
        f"with code {child.process.returncode}; stopping the other services !!!\n",
        file=sys.stderr,
        flush=True,
    )


def _stop_all(children: list[Child], grace: float, dead: Child | None) -> bool:
    """SIGTERM every running child, wait out the grace period, then kill stragglers.

    Returns whether every child exited 0; ``dead`` (already reported) is not reported again.
    """
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace + 5
    clean = True
    for child in children:
        try:
            code = child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"llmops: {child.name} did not stop in time; killing it", file=sys.stderr)
            child.process.kill()
            code = child.process.wait()
        if code != 0 and child is not dead:
            print(f"llmops: {child.name} stopped with exit code {code}", file=sys.stderr)
        clean = clean and code == 0
    return clean


if __name__ == "__main__":
    sys.exit(main())
