"""Fixtures of the fault tests that reach PostgreSQL through a cuttable proxy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.faults.support import TcpProxy


@pytest.fixture
def database() -> Iterator[str]:
    """The name of a fresh PostgreSQL database, dropped afterwards."""
    name = f"llmops_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """A TCP proxy to the PostgreSQL server, which the test can cut and restore."""
    port = int(POSTGRES_ADMIN_URL.rsplit(":", 1)[1].split("/", 1)[0])
    tcp = TcpProxy(port)
    try:
        yield tcp
    finally:
        tcp.close()
