"""The Node.js client's own tests (``node --test clients/node/test/``) against real processes.

GuardrailService, LogSinkService and ExperimentService run as ``python -m services.<name>``
on SQLite and a local object store; the Node tests get their addresses from
``LLMOPS_<NAME>_ADDRESS`` and fail here if any of them was skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_suite_processes import SERVICES, STARTUP_SECONDS, is_serving, suite_environment

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
NODE_DIR = ROOT / "clients" / "node"
NEEDED = ("guardrail", "logsink", "experiment")
SHIPPED_POLICIES = ROOT / "services" / "guardrail" / "policies" / "default.yaml"


def pattern_only_policies(folder: Path) -> Path:
    """The shipped default policy alone: it loads no embedding model, so start-up is quick."""
    shipped = yaml.safe_load(SHIPPED_POLICIES.read_text())
    path = folder / "policies.yaml"
    policies = {
        "default_policy": "default",
        "policies": {"default": shipped["policies"]["default"]},
    }
    path.write_text(yaml.safe_dump(policies))
    return path


def ensure_node_modules() -> None:
    """``npm ci`` from the committed lock file when the dependencies are not installed."""
    if (NODE_DIR / "node_modules" / ".package-lock.json").exists():
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is not installed"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300)


@pytest.fixture(scope="module")
def addresses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("node-e2e")
    env = suite_environment(tmp)
    env["LLMOPS_GUARDRAIL_POLICY_FILE"] = str(pattern_only_policies(tmp))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in NEEDED:
            log = (tmp / f"{name}.log").open("wb")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                env=env,
                cwd=tmp,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        for name, process in processes.items():
            port = int(env[f"LLMOPS_{name.upper()}_PORT"])
            while not is_serving(port, SERVICES[name]):
                assert process.poll() is None, (tmp / f"{name}.log").read_text()
                assert time.monotonic() < deadline, f"{name} never became SERVING"
                time.sleep(0.2)
        yield {
            f"LLMOPS_{name.upper()}_ADDRESS": f"127.0.0.1:{env[f'LLMOPS_{name.upper()}_PORT']}"
            for name in NEEDED
        }
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
