"""Service processes for the end-to-end and fault tests, failing the test loudly.

The mechanics (free ports, starting, health polling, stopping) are the ones the
supervisor and the benchmarks use, in ``services.common.processes``; this adds the
test-side defaults and turns a process that never serves into a failure with its log.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.common import processes
from tests.support.policies import pattern_only_policies

GRACE_SECONDS = 5
# Generous: the drift service loads an embedding model before it serves.
STARTUP_SECONDS = 180


def suite_environment(tmp_path: Path) -> dict[str, str]:
    """An environment with every service on free ports and its data under tmp_path."""
    return {
        **os.environ,
        "LLMOPS_DATABASE_URL": f"sqlite:///{tmp_path}/data/llmops.db",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path}/data/objects",
        "LLMOPS_GRACE_SECONDS": str(GRACE_SECONDS),
        **processes.port_environment(),
    }


def wait_serving(
    process: subprocess.Popen[bytes], target: str, service: str, deadline: float, log: Path
) -> None:
    """Wait until ``service`` at ``target`` is SERVING, or fail the test showing ``log``."""
    try:
        processes.wait_until_serving(process, target, service, deadline)
    except processes.NotServing as exc:
        pytest.fail(f"{exc}; log:\n{log.read_text(errors='replace')}")


@contextmanager
def serving(names: Sequence[str], env: Mapping[str, str], tmp: Path) -> Iterator[dict[str, str]]:
    """The named services as processes, each logging to ``tmp/<name>.log``.

    Yields ``LLMOPS_<NAME>_ADDRESS`` for each, the variables clients read; stops them all
    on exit.
    """
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in names:
            running[name] = processes.start(f"services.{name}", env, tmp, tmp / f"{name}.log")
        deadline = time.monotonic() + STARTUP_SECONDS
        for name, process in running.items():
            target = processes.address(env, name)
            service = processes.SERVICES[name]
            wait_serving(process, target, service, deadline, tmp / f"{name}.log")
        yield {f"LLMOPS_{name.upper()}_ADDRESS": processes.address(env, name) for name in names}
    finally:
        processes.stop_all(running.values(), 10)


@contextmanager
def serving_for_clients(names: Sequence[str], tmp: Path) -> Iterator[dict[str, str]]:
    """:func:`serving` in a fresh suite environment whose guard loads no embedding model
    (the shipped default policy alone), as the client tests in other languages use it."""
    env = suite_environment(tmp)
    env["LLMOPS_GUARDRAIL_POLICY_FILE"] = str(pattern_only_policies(tmp))
    with serving(names, env, tmp) as addresses:
        yield addresses
