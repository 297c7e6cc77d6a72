"""The ``llmops`` command line over mutual TLS to a real ExperimentService process."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from llmops import cli

from services.common import processes
from services.common.processes import free_ports
from tests.support.certs import write_pki

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    write_pki(folder, "cli")
    return folder


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


@pytest.fixture(scope="module")
def address(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("cli-tls")
    port, metrics = free_ports(2)
    env = {
        **os.environ,
        "LLMOPS_DATABASE_URL": f"sqlite:///{tmp}/llmops.db",
        "LLMOPS_EXPERIMENT_PORT": str(port),
        "LLMOPS_EXPERIMENT_METRICS_PORT": str(metrics),
        "LLMOPS_TLS_CERT_FILE": str(pki / "server_cert.pem"),
        "LLMOPS_TLS_KEY_FILE": str(pki / "server_key.pem"),
        "LLMOPS_TLS_CLIENT_CA_FILE": str(pki / "ca.pem"),
        "LLMOPS_GRACE_SECONDS": "1",
    }
    process = processes.start("services.experiment", env, tmp, tmp / "experiment.log")
    target = f"localhost:{port}"
    try:
        deadline = time.monotonic() + 120
        while run("experiments", "list", "--experiment", target, *mtls(pki), "--timeout", "1")[0]:
            assert process.poll() is None, (tmp / "experiment.log").read_text()
            assert time.monotonic() < deadline, "experiment never answered over TLS"
            time.sleep(0.3)
        yield target
    finally:
        processes.stop(process, 10)


def mtls(pki: Path) -> list[str]:
    return [
        f"--ca-file={pki / 'ca.pem'}",
        f"--cert-file={pki / 'client_cert.pem'}",
        f"--key-file={pki / 'client_key.pem'}",
    ]


def test_mutual_tls_with_a_client_certificate_works(address: str, pki: Path) -> None:
    code, out = run("--experiment", address, *mtls(pki), "experiments", "create", "t",
                    "--variant", "a", "--variant", "b")  # fmt: skip
    assert code == 0
    assert "experiment 't' created" in out
    assert run("--experiment", address, *mtls(pki), "experiments", "list", "--json")[0] == 0


def test_without_a_client_certificate_or_in_plaintext_the_server_is_not_reachable(
    address: str, pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for flags in ([f"--ca-file={pki / 'ca.pem'}"], []):
        code, _ = run("--experiment", address, *flags, "--timeout", "5", "experiments", "list")
        assert code == 1
        assert capsys.readouterr().err == f"llmops: experiment at {address} is not reachable\n"


def test_half_a_client_identity_is_a_usage_error(
    pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(f"--cert-file={pki / 'client_cert.pem'}", "status")
    assert code == 2
    assert capsys.readouterr().err == "llmops: --cert-file and --key-file go together\n"
