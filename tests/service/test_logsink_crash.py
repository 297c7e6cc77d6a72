"""SIGKILL of a LogSink process mid-stream: replaying unacknowledged batches loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from llmops.v1 import logsink_pb2, logsink_pb2_grpc

from tests.service.logsink_support import batch, record

ROOT = Path(__file__).resolve().parents[2]
BATCHES = 24
PER_BATCH = 100
KILL_AFTER_ACKS = 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def logsink_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m services.logsink`` as its own process; killed if still alive at exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "services.logsink"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()


async def _wait_serving(address: str, process: subprocess.Popen[bytes]) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(300):
            assert process.poll() is None, "LogSink exited during start-up"
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("LogSink did not become SERVING")


@pytest.mark.slow
async def test_sigkill_mid_stream_then_replay_stores_every_record_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {
        "LLMOPS_LOGSINK_PORT": str(port),
        "LLMOPS_LOGSINK_METRICS_PORT": "0",
        "LLMOPS_DATABASE_URL": database_url,
        "LLMOPS_OBJECT_STORE": f"file:{tmp_path / 'objects'}",
        "LLMOPS_LOGSINK_TEXT_MODE": "full",
        "LLMOPS_LOG_LEVEL": "WARNING",
    }
    batches = [
        batch(
            f"b{n}",
            [record(f"{n}-{i}", response_text=f"text {n}-{i} " * 40) for i in range(PER_BATCH)],
        )
        for n in range(BATCHES)
    ]
    acked: set[str] = set()

    with logsink_process(env) as process:
        await _wait_serving(address, process)
        async with grpc.aio.insecure_channel(address) as channel:
            stub = logsink_pb2_grpc.LogSinkServiceStub(channel)

            async def send() -> AsyncIterator[logsink_pb2.StreamRecordsRequest]:
                for b in batches:
                    yield b

            async def receive_then_kill() -> None:
                async for ack in stub.StreamRecords(send(), timeout=60):
                    assert ack.stored + ack.duplicates == PER_BATCH
                    acked.add(ack.batch_id)
                    if len(acked) == KILL_AFTER_ACKS:
                        process.send_signal(signal.SIGKILL)

            with pytest.raises(grpc.aio.AioRpcError):
                await receive_then_kill()
        process.wait(timeout=10)
    assert KILL_AFTER_ACKS <= len(acked) < BATCHES

    with logsink_process(env) as process:
        await _wait_serving(address, process)
        async with grpc.aio.insecure_channel(address) as channel:
            stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
            replay = [b for b in batches if b.batch_id not in acked]
            acks = [ack async for ack in stub.StreamRecords(iter(replay), timeout=120)]
            assert [a.batch_id for a in acks] == [b.batch_id for b in replay]
            assert all(a.stored + a.duplicates == PER_BATCH for a in acks)

            seen: list[str] = []
            token = ""
            while True:
                page = await stub.ListRecords(
                    logsink_pb2.ListRecordsRequest(page_size=1000, page_token=token), timeout=30
                )
                seen += [r.request_id for r in page.records]
                token = page.next_page_token
                if not token:
                    break
            assert len(seen) == BATCHES * PER_BATCH
            assert set(seen) == {r.request_id for b in batches for r in b.records}
            # An acknowledged record's text survived the kill.
            first_acked = sorted(acked)[0]
            got = await stub.GetRecord(
                logsink_pb2.GetRecordRequest(request_id=f"{first_acked[1:]}-7", include_text=True),
                timeout=10,
            )
            assert got.record.response_text == f"text {first_acked[1:]}-7 " * 40
