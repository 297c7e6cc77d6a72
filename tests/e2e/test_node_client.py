"""The Node.js client's own tests (``node --test clients/node/test/``) against real processes.

GuardrailService, LogSinkService and ExperimentService run as ``python -m services.<name>``
on SQLite and a local object store; the Node tests get their addresses from
``LLMOPS_<NAME>_ADDRESS`` and fail here if any of them was skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import serving_for_clients

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
NODE_DIR = ROOT / "clients" / "node"
NEEDED = ("guardrail", "logsink", "experiment")


def ensure_node_modules() -> None:
    """``npm ci`` from the committed lock file when the dependencies are not installed."""
    if (NODE_DIR / "node_modules" / ".package-lock.json").exists():
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is not installed"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)


@pytest.fixture(scope="module")
def addresses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with serving_for_clients(NEEDED, tmp_path_factory.mktemp("node-e2e")) as addresses:
        yield addresses


def test_node_client_tests_pass_against_the_real_services(addresses: dict[str, str]) -> None:
    ensure_node_modules()
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    result = subprocess.run(
        [node, "--test", "clients/node/test/"],
        cwd=ROOT,
        env={**os.environ, **addresses},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    summary = dict(re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)$", report, re.MULTILINE))
    assert summary == {"pass": summary["pass"], "fail": "0", "skipped": "0", "cancelled": "0"}
    # The assignment and prompt-hash vectors, CheckInput, StreamRecords and Assign all ran.
    assert int(summary["pass"]) >= 11, report
