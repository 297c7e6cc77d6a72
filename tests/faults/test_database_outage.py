"""PostgreSQL goes away for 20 s while a client ships records to a real LogSink process.

The shared PostgreSQL server cannot be stopped under other tests, so LogSink reaches
it through a TCP proxy on loopback that the test cuts: open connections are reset
and new ones are closed at once, as when the server stops. The client is the real
llmops shipper with its disk spool. Afterwards every record is stored exactly once,
the shipper dropped nothing, and LogSink is SERVING again without a restart.
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
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from llmops.shipper import Shipper
from llmops.v1 import common_pb2

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.test_suite_processes import free_ports, is_serving

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(180)]

OUTAGE_SECONDS = 20
RECORDS_PER_PHASE = 300
SERVICE = "llmops.v1.LogSinkService"


class TcpProxy:
    """Forwards loopback connections to a port until cut; a cut resets them all."""

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._up = threading.Event()
        self._up.set()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            # A cut or the other side closing: both sockets are closed below.
            pass
        finally:
            for sock in (source, sink):
                self._discard(sock)

    def _discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        # The peer may have gone already; closing is all that is left to do then.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._discard(sock)

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closing.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def database() -> Iterator[str]:
    name = f"llmops_outage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    port = int(POSTGRES_ADMIN_URL.rsplit(":", 1)[1].split("/", 1)[0])
    tcp = TcpProxy(port)
    try:
        yield tcp
    finally:
        tcp.close()


def _record() -> common_pb2.CallRecord:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return common_pb2.CallRecord(
        request_id=str(uuid.uuid4()),
        timestamp=timestamp,
        model="gpt-4o",
        prompt_template="support:v1",
        usage=common_pb2.TokenUsage(input_tokens=100, output_tokens=50),
        latency_ms=250,
        status=common_pb2.CALL_STATUS_SUCCESS,
        prompt_text="How do I get a refund?",
        response_text="Open Orders, pick the order, choose Refund.",
    )


def _ship(shipper: Shipper, sent: list[str], count: int, seconds: float) -> None:
    """Enqueue ``count`` records spread over ``seconds``, as an application would."""
    for _ in range(count):
        record = _record()
        sent.append(record.request_id)
        shipper.enqueue(record)
        time.sleep(seconds / count)


def test_every_record_survives_a_database_outage_exactly_once(
    tmp_path: Path, database: str, proxy: TcpProxy
) -> None:
    grpc_port, metrics_port = free_ports(2)
    host = POSTGRES_ADMIN_URL.split("://", 1)[1].split("@", 1)
    user = host[0]
    env = {
        **os.environ,
        "LLMOPS_LOGSINK_PORT": str(grpc_port),
        "LLMOPS_LOGSINK_METRICS_PORT": str(metrics_port),
        "LLMOPS_DATABASE_URL": f"postgresql+psycopg://{user}@127.0.0.1:{proxy.port}/{database}",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path / 'objects'}",
        "LLMOPS_GRACE_SECONDS": "2",
    }
    log = tmp_path / "logsink.log"
    with log.open("wb") as out:
        logsink = subprocess.Popen(
            [sys.executable, "-m", "services.logsink"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while not is_serving(grpc_port, SERVICE):
            assert logsink.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "LogSink never became SERVING"
            time.sleep(0.2)

        shipper = Shipper(
            lambda: grpc.insecure_channel(f"127.0.0.1:{grpc_port}"),
            spool_dir=tmp_path / "spool",
            batch_size=50,
            interval=0.1,
            ack_timeout=5.0,
            initial_backoff=0.2,
            max_backoff=2.0,
        )
        sent: list[str] = []
        try:
            _ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
            proxy.cut()
            outage_end = time.monotonic() + OUTAGE_SECONDS
            _ship(shipper, sent, RECORDS_PER_PHASE, seconds=OUTAGE_SECONDS / 2)
            time.sleep(max(0.0, outage_end - time.monotonic()))
            proxy.restore()
            _ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
            assert shipper.flush(timeout=90), f"not delivered: {shipper.stats}"
        finally:
            shipper.close(timeout=5)

        stats = shipper.stats
        assert (stats.dropped, stats.rejected) == (0, 0), stats
        assert stats.stored + stats.duplicates == len(sent), stats
        assert is_serving(grpc_port, SERVICE)
        assert logsink.poll() is None, "LogSink exited during the outage"

        with psycopg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}") as conn:
            stored, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT request_id) FROM logsink_records"
                " WHERE request_id = ANY(%s)",
                (sent,),
            ).fetchone() or (0, 0)
        assert (stored, distinct) == (len(sent), len(sent))
    finally:
        logsink.send_signal(signal.SIGTERM)
        try:
            logsink.wait(timeout=15)
        except subprocess.TimeoutExpired:
            logsink.kill()
            logsink.wait()
