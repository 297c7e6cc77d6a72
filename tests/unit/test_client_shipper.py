"""The background shipper against a real gRPC LogSink peer on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from llmops.channels import create_channel
from llmops.shipper import STREAM_CLOSE_TIMEOUT, Shipper
from llmops.spool import Spool
from llmops.v1 import common_pb2

from tests.support.client_peers import PeerLogSink, PeerServer, free_port


def record(n: int = 0, text: str = "") -> common_pb2.CallRecord:
    return common_pb2.CallRecord(
        request_id=str(uuid.uuid4()),
        model="fake-1",
        status=common_pb2.CALL_STATUS_SUCCESS,
        latency_ms=float(n),
        prompt_text=text,
    )


def make_shipper(port: int, spool: Path | None, **options: Any) -> Shipper:
    target = f"127.0.0.1:{port}"
    defaults: dict[str, Any] = {
        "batch_size": 16,
        "interval": 0.05,
        "initial_backoff": 0.05,
        "max_backoff": 0.2,
        "ack_timeout": 5.0,
    }
    return Shipper(
        lambda: create_channel(target, "llmops.v1.LogSinkService", retries=False),
        metadata=(("x-llmops-tenant", "acme"),),
        spool_dir=spool,
        **{**defaults, **options},
    )


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def peer() -> Iterator[tuple[PeerServer, PeerLogSink]]:
    sink = PeerLogSink()
    server = PeerServer(logsink=sink).start()
    yield server, sink
    server.stop()


def test_records_arrive_once_in_batches_with_tenant_metadata(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    shipper = make_shipper(server.port, tmp_path / "spool")
    sent = [record(i) for i in range(95)]
    for r in sent:
        shipper.enqueue(r)
    assert shipper.flush(10)
    assert set(sink.records) == {r.request_id for r in sent}
    assert shipper.stats.stored == 95
    assert sink.metadata[0]["x-llmops-tenant"] == "acme"
    assert len(sink.metadata) == 1, "one long-lived stream, not one per batch"
    assert shipper.close(5)


def test_spool_is_replayed_when_logsink_starts_later(tmp_path: Path) -> None:
    port = free_port()
    spool = tmp_path / "spool"
    shipper = make_shipper(port, spool)
    sent = [record(i) for i in range(50)]
    for r in sent:
        shipper.enqueue(r)
    assert not shipper.flush(0.5)
    assert wait_for(lambda: not shipper.queued and any(spool.iterdir()))
    assert shipper.stats.spooled == 50
    sink = PeerLogSink()
    server = PeerServer(port, logsink=sink).start()
    try:
        assert shipper.flush(10)
        assert set(sink.records) == {r.request_id for r in sent}
        assert list(spool.iterdir()) == [], "spool files are deleted after their ack"
    finally:
        shipper.close(5)
        server.stop()


def test_logsink_killed_mid_run_loses_nothing_and_stores_once(tmp_path: Path) -> None:
    sink = PeerLogSink()
    server = PeerServer(logsink=sink).start()
    shipper = make_shipper(server.port, tmp_path / "spool")
    sent = [record(i) for i in range(300)]
    try:
        for r in sent[:100]:
            shipper.enqueue(r)
        assert shipper.flush(10)
        server.stop()
        for r in sent[100:]:
            shipper.enqueue(r)
        assert not shipper.flush(0.5)
        server.start()
        assert shipper.flush(15)
        assert set(sink.records) == {r.request_id for r in sent}
        assert shipper.dropped == 0
    finally:
        shipper.close(5)
        server.stop()


def test_without_spool_undelivered_records_wait_in_memory(tmp_path: Path) -> None:
    port = free_port()
    shipper = make_shipper(port, None)
    sent = [record(i) for i in range(40)]
    for r in sent:
        shipper.enqueue(r)
    assert not shipper.flush(0.5)
    sink = PeerLogSink()
    server = PeerServer(port, logsink=sink).start()
    try:
        assert shipper.flush(10)
        assert set(sink.records) == {r.request_id for r in sent}
    finally:
        shipper.close(5)
        server.stop()


def test_drops_are_counted_and_logged_only_when_the_spool_is_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    shipper = make_shipper(
        port, tmp_path / "spool", spool_max_bytes=4000, max_queue=32, batch_size=8
    )
    sent = [record(i, text="x" * 100) for i in range(200)]
    with caplog.at_level(logging.ERROR, logger="llmops.shipper"):
        for r in sent:
            shipper.enqueue(r)
        assert wait_for(lambda: not shipper.queued)
    assert shipper.dropped > 0
    assert any("dropped" in m for m in caplog.messages)
    sink = PeerLogSink()
    server = PeerServer(port, logsink=sink).start()
    try:
        assert shipper.flush(10)
        assert len(sink.records) + shipper.dropped == len(sent), "every record is accounted for"
        assert len(sink.records) > 0
    finally:
        shipper.close(5)
        server.stop()


def test_queue_overflow_goes_to_the_spool_not_the_floor(tmp_path: Path) -> None:
    port = free_port()
    shipper = make_shipper(port, tmp_path / "spool", max_queue=16, batch_size=16, interval=30)
    sent = [record(i) for i in range(100)]
    for r in sent:
        shipper.enqueue(r)
    sink = PeerLogSink()
    server = PeerServer(port, logsink=sink).start()
    try:
        assert shipper.flush(15)
        assert set(sink.records) == {r.request_id for r in sent}
        assert shipper.dropped == 0
    finally:
        shipper.close(5)
        server.stop()


def test_non_retryable_refusal_drops_and_counts_instead_of_retrying(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    sink.refuse_with = grpc.StatusCode.UNAUTHENTICATED
    spool = tmp_path / "spool"
    shipper = make_shipper(server.port, spool)
    for i in range(5):
        shipper.enqueue(record(i))
    assert wait_for(lambda: shipper.dropped == 5)
    assert sink.records == {}
    shipper.close(1)
    assert list(spool.iterdir()) == []


def test_rejected_records_are_counted_and_not_resent(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    shipper = make_shipper(server.port, tmp_path / "spool")
    bad = common_pb2.CallRecord(model="fake-1")
    shipper.enqueue(bad)
    shipper.enqueue(record(1))
    assert shipper.flush(10)
    assert shipper.stats.rejected == 1
    assert shipper.stats.stored == 1
    assert sink.deliveries == 2
    shipper.close(5)


def test_close_spools_what_it_cannot_send_and_a_new_shipper_replays_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    spool = tmp_path / "spool"
    first = make_shipper(port, spool)
    sent = [record(i) for i in range(20)]
    for r in sent:
        first.enqueue(r)
    assert not first.close(0.3)
    first.enqueue(record(99))
    assert first.stats.spooled == 21, "records enqueued after close are spooled, not lost"
    sink = PeerLogSink()
    server = PeerServer(port, logsink=sink).start()
    second = make_shipper(port, spool)
    try:
        assert second.flush(10)
        assert {r.request_id for r in sent} <= set(sink.records)
        assert len(sink.records) == 21
    finally:
        second.close(5)
        server.stop()


def test_close_cancels_the_stream_when_logsink_does_not_end_it_after_the_half_close(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    sink.hang_after_half_close = True
    spool = tmp_path / "spool"
    shipper = make_shipper(server.port, spool)
    sent = [record(i) for i in range(5)]
    for r in sent:
        shipper.enqueue(r)
    assert shipper.flush(10)
    started = time.monotonic()
    assert shipper.close(5)
    assert time.monotonic() - started < STREAM_CLOSE_TIMEOUT + 1.0
    assert sink.cancelled.wait(5)
    assert set(sink.records) == {r.request_id for r in sent}
    assert list(spool.iterdir()) == [], "acknowledged batches are not spooled"


def test_close_returns_in_time_when_logsink_never_acks_and_spools_the_batches(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    sink.hang_before_ack = True
    spool = tmp_path / "spool"
    # The worker sleeps until flush() wakes it, then holds its lock for ack_timeout.
    shipper = make_shipper(server.port, spool, ack_timeout=3.0, interval=30)
    for i in range(5):
        shipper.enqueue(record(i))
    started = time.monotonic()
    assert not shipper.close(0.5)
    assert time.monotonic() - started < 0.5 + 1.0 + 0.5, "flush(0.5), join(1 s), not ack_timeout"
    assert wait_for(lambda: shipper.stats.spooled == 5)
    assert sink.cancelled.wait(5)


def test_large_records_are_split_into_batches_under_the_byte_limit(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    shipper = make_shipper(server.port, tmp_path / "spool", max_batch_bytes=50_000)
    sent = [record(i, text="y" * 20_000) for i in range(10)]
    for r in sent:
        shipper.enqueue(r)
    assert shipper.flush(10)
    assert len(sink.records) == 10
    shipper.close(5)


# Runs in a fresh interpreter that holds only the client side, as an application
# forking its workers does: forking pytest itself would also fork the in-process
# gRPC server of the peer, which gRPC does not support (it crashed the child once).
_FORK_SCRIPT = """
import os, sys, time
from tests.unit.test_client_shipper import make_shipper, record

port, spool = int(sys.argv[1]), sys.argv[2]
shipper = make_shipper(port, spool)
shipper.enqueue(record(0))
assert shipper.flush(10)
child_records = [record(100 + i) for i in range(10)]
pid = os.fork()
if pid == 0:
    try:
        for r in child_records:
            shipper.enqueue(r)
        os._exit(0 if shipper.flush(10) else 3)
    except BaseException:
        os._exit(4)
deadline = time.monotonic() + 30
while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0:
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        sys.exit("forked child hung")
    time.sleep(0.05)
child_exit = os.waitstatus_to_exitcode(waited[1])
parent_record = record(200)
shipper.enqueue(parent_record)
parent_flushed = shipper.flush(10)
shipper.close(5)
print(child_exit, parent_flushed, parent_record.request_id, *(r.request_id for r in child_records))
"""


def test_forked_child_ships_its_own_records_and_the_parent_keeps_shipping(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    done = subprocess.run(
        [sys.executable, "-c", _FORK_SCRIPT, str(server.port), str(tmp_path / "spool")],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    child_exit, parent_flushed, parent_id, *child_ids = done.stdout.split()
    assert child_exit == "0"
    assert parent_flushed == "True"
    assert set(child_ids) <= set(sink.records)
    assert parent_id in sink.records
    assert len(sink.records) == 12


def test_unwritable_spool_counts_drops_instead_of_losing_records_silently(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = tmp_path / "spool"
    shipper = make_shipper(free_port(), spool)
    spool.rmdir()
    spool.write_text("a file where the spool directory was")
    with caplog.at_level(logging.ERROR, logger="llmops"):
        for i in range(5):
            shipper.enqueue(record(i))
        assert wait_for(lambda: shipper.dropped == 5)
    assert any("not writable" in m for m in caplog.messages)
    shipper.close(0.2)


def test_many_app_threads_with_a_small_queue_lose_nothing(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path
) -> None:
    server, sink = peer
    shipper = make_shipper(server.port, tmp_path / "spool", max_queue=64, batch_size=32)
    per_thread = [[record(t * 1000 + i) for i in range(400)] for t in range(8)]
    threads = [
        threading.Thread(target=lambda rs=rs: [shipper.enqueue(r) for r in rs]) for rs in per_thread
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shipper.flush(30)
    assert set(sink.records) == {r.request_id for rs in per_thread for r in rs}
    assert shipper.dropped == 0
    shipper.close(5)


def test_server_sent_retry_delay_is_honoured(
    peer: tuple[PeerServer, PeerLogSink], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, sink = peer
    sink.retry_after_once = 1.5
    shipper = make_shipper(server.port, tmp_path / "spool", max_backoff=0.2)
    sent = [record(i) for i in range(5)]
    with caplog.at_level(logging.WARNING, logger="llmops.shipper"):
        for r in sent:
            shipper.enqueue(r)
        assert shipper.flush(15)
    retry = next(m for m in caplog.messages if "retrying in" in m)
    assert float(retry.split("retrying in ")[1].split(" s")[0]) >= 1.5
    assert set(sink.records) == {r.request_id for r in sent}
    shipper.close(5)


def test_spool_removes_stale_half_written_files_but_not_fresh_ones(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    stale = spool_dir / "1-1-000000.tmp"
    fresh = spool_dir / "2-2-000000.tmp"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"being written by another process")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    spool = Spool(spool_dir, 10_000)
    assert not stale.exists()
    assert fresh.exists()
    assert spool.oldest() == []
    written = record(1)
    assert spool.write([written])
    (path,) = spool.oldest()
    assert [r.request_id for r in spool.read(path) or []] == [written.request_id]
    spool.delete(path)
    assert spool.size_bytes == 0
