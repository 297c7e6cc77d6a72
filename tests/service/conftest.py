"""Fixtures shared by the in-process service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.certs import cert_pem, issue, key_pem


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, bytes]:
    ca_cert, ca_key = issue("llmops test CA", None, ca=True)
    server_cert, server_key = issue("localhost", (ca_cert.subject, ca_key))
    client_cert, client_key = issue("client", (ca_cert.subject, ca_key))
    files = {
        "ca": cert_pem(ca_cert),
        "server_cert": cert_pem(server_cert),
        "server_key": key_pem(server_key),
        "client_cert": cert_pem(client_cert),
        "client_key": key_pem(client_key),
    }
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    return files
