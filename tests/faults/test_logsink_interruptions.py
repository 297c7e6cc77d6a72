"""LogSink interrupted while a real shipper streams to it: S3 outage, SIGTERM, restart.

Each test ends the same way: every record the application handed over is stored
exactly once with its texts, the shipper dropped nothing, and LogSink is SERVING.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from llmops.shipper import Shipper
from llmops.v1 import logsink_pb2, logsink_pb2_grpc

from tests.conftest import S3Server
from tests.faults.support import LogSinkProcess, TcpProxy, call_record, logsink_process, ship

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

RECORDS_PER_PHASE = 200


@pytest.fixture
def s3_proxy(s3_server: S3Server) -> Iterator[TcpProxy]:
    tcp = TcpProxy(int(s3_server.endpoint.rsplit(":", 1)[1]))
    try:
        yield tcp
    finally:
        tcp.close()


def _flush(shipper: Shipper) -> None:
    try:
        assert shipper.flush(timeout=90), f"not delivered: {shipper.stats}"
    finally:
        shipper.close(timeout=5)
    assert (shipper.stats.dropped, shipper.stats.rejected) == (0, 0), shipper.stats


def _assert_stored_once_with_texts(
    database: Path, logsink: LogSinkProcess, sent: list[str]
) -> None:
    with sqlite3.connect(database) as conn:
        placeholders = ",".join("?" * len(sent))
        stored, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM logsink_records"
            f" WHERE request_id IN ({placeholders})",
            sent,
        ).fetchone()
    assert (stored, distinct) == (len(sent), len(sent))
    expected = call_record()
    with grpc.insecure_channel(f"127.0.0.1:{logsink.port}") as channel:
        stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
        for request_id in random.Random(7).sample(sent, 20):
            record = stub.GetRecord(
                logsink_pb2.GetRecordRequest(request_id=request_id, include_text=True), timeout=10
            ).record
            assert (record.prompt_text, record.response_text) == (
                expected.prompt_text,
                expected.response_text,
            )


def test_records_and_texts_survive_an_object_store_outage(
    tmp_path: Path, s3_server: S3Server, s3_proxy: TcpProxy
) -> None:
    database = tmp_path / "logsink.db"
    environment = {
        "LLMOPS_DATABASE_URL": f"sqlite:///{database}",
        "LLMOPS_OBJECT_STORE": f"s3://faults-{uuid.uuid4().hex[:12]}",
        "LLMOPS_S3_ENDPOINT": f"127.0.0.1:{s3_proxy.port}",
        "LLMOPS_S3_ACCESS_KEY": s3_server.access_key,
        "LLMOPS_S3_SECRET_KEY": s3_server.secret_key,
        "LLMOPS_S3_REGION": s3_server.region,
        "LLMOPS_LOGSINK_TEXT_MODE": "full",
    }
    with logsink_process(tmp_path, environment) as logsink:
        shipper = logsink.shipper(tmp_path / "spool")
        sent: list[str] = []
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
        s3_proxy.cut()
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=5)
        time.sleep(5)
        s3_proxy.restore()
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
        _flush(shipper)
        assert logsink.serving()
        _assert_stored_once_with_texts(database, logsink, sent)


def test_sigterm_mid_stream_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "logsink.db"
    environment = {
        "LLMOPS_DATABASE_URL": f"sqlite:///{database}",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path / 'objects'}",
        "LLMOPS_LOGSINK_TEXT_MODE": "full",
    }
    logsink = LogSinkProcess(tmp_path, environment)
    logsink.start()
    try:
        shipper = logsink.shipper(tmp_path / "spool")
        sent: list[str] = []
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
        # Graceful stop while the stream is open: drain within the grace, exit 0.
        assert logsink.stop() == 0, logsink.log.read_text()[-2000:]
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
        logsink.start()
        ship(shipper, sent, RECORDS_PER_PHASE, seconds=2)
        _flush(shipper)
        assert logsink.serving()
        _assert_stored_once_with_texts(database, logsink, sent)
    finally:
        logsink.stop()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _batches(
    prefix: str, count: int, sent: list[str]
) -> Iterator[logsink_pb2.StreamRecordsRequest]:
    for number in range(count):
        records = [call_record() for _ in range(100)]
        sent.extend(r.request_id for r in records)
        yield logsink_pb2.StreamRecordsRequest(batch_id=f"{prefix}-{number}", records=records)


def test_a_client_that_does_not_read_its_acks_does_not_hold_up_others(tmp_path: Path) -> None:
    """A slow consumer: it streams 30,000 records and leaves the acks unread.

    Its records are stored as they arrive and its unread acks wait in the stream's
    buffers (they are tens of bytes each), so meanwhile another client is served at
    once, LogSink's memory does not grow with the data offered, and every ack is
    still there when the slow client finally reads.
    """
    database = tmp_path / "logsink.db"
    environment = {
        "LLMOPS_DATABASE_URL": f"sqlite:///{database}",
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path / 'objects'}",
        "LLMOPS_LOGSINK_TEXT_MODE": "full",
    }
    with logsink_process(tmp_path, environment) as logsink:
        assert logsink.process is not None
        rss_before = _rss_mb(logsink.process.pid)
        address = f"127.0.0.1:{logsink.port}"
        slow_sent: list[str] = []
        with grpc.insecure_channel(address) as slow_channel:
            # 300 batches of 100 short records: about 5 MB offered.
            slow = logsink_pb2_grpc.LogSinkServiceStub(slow_channel).StreamRecords(
                _batches("slow", 300, slow_sent), timeout=120
            )
            time.sleep(3)
            fast_sent: list[str] = []
            with grpc.insecure_channel(address) as fast_channel:
                fast = logsink_pb2_grpc.LogSinkServiceStub(fast_channel)
                started = time.monotonic()
                acks = list(fast.StreamRecords(_batches("fast", 10, fast_sent), timeout=60))
                fast_seconds = time.monotonic() - started
            assert sum(a.stored for a in acks) == len(fast_sent) == 1000
            rss_while_stalled = _rss_mb(logsink.process.pid)
            slow_acks = list(slow)
        assert sum(a.stored for a in slow_acks) == len(slow_sent) == 30_000
        assert logsink.serving()
    assert fast_seconds < 30
    assert rss_while_stalled - rss_before < 150, (rss_before, rss_while_stalled)
    with sqlite3.connect(database) as conn:
        count = conn.execute("SELECT count(DISTINCT request_id), count(*) FROM logsink_records")
        assert count.fetchone() == (31_000, 31_000)
