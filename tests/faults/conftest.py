"""Fixtures of the fault tests that reach PostgreSQL through a cuttable proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_database
from tests.faults.support import TcpProxy


@pytest.fixture
def database() -> Iterator[str]:
    """The name of a fresh PostgreSQL database, dropped afterwards."""
    with postgres_database("llmops_faults") as name:
        yield name


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """A TCP proxy to the PostgreSQL server, which the test can cut and restore."""
    port = int(POSTGRES_ADMIN_URL.rsplit(":", 1)[1].split("/", 1)[0])
    tcp = TcpProxy(port)
    try:
        yield tcp
    finally:
        tcp.close()
