"""Fixtures shared by every test: real databases, a real S3 server, object stores.

* ``database_url`` -- an empty database per test, once on SQLite (a temp file) and
  once on PostgreSQL (a fresh ``llmops_test_<random>`` database on 127.0.0.1:5432,
  dropped afterwards). PostgreSQL must be running: ``.ci/run`` starts it.
* ``s3_server`` -- a moto S3 server on a free port for the whole session.
* ``object_store`` -- an empty store per test, once local and once on S3.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from minio import Minio
from moto.server import ThreadedMotoServer

from services.common.objectstore import LocalObjectStore, ObjectStore, S3ObjectStore

POSTGRES_ADMIN_URL = os.environ.get(
    "LLMOPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The name of a fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, as a SQLAlchemy URL the services accept."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'llmops.db'}"
        return
    with postgres_database("llmops_test") as name:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@dataclass(frozen=True)
class S3Server:
    """Where the test S3 server listens and the credentials it accepts."""

    endpoint: str
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = "us-east-1"

    def client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region=self.region,
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3-compatible HTTP server (moto) on a free local port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint=f"{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def object_store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
) -> ObjectStore:
    """An empty object store: a temp folder, or a fresh bucket on the S3 server."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    return S3ObjectStore(s3_server.client(), f"test-{uuid.uuid4().hex[:12]}")
