"""Durable ingestion throughput of LogSink through the acknowledged bidirectional stream.

LogSink runs as its own process (as in production); this process streams batches of
records with 1 KB of response text and counts acknowledgements. The texts are ordinary
prompts in eight languages (tests/data/benign_prompts.jsonl) run together and cut into
distinct 1 KB texts, sent in turn; ``--text repeated`` sends one English sentence
repeated instead, which compresses several times faster (the text of sessions 1-4).
In the same run, the same rows are inserted straight into a fresh database with the
driver's fastest bulk path (sqlite3 executemany, PostgreSQL COPY), no gRPC, no texts:
the "raw limit". The ratio between the two is the figure to compare across machines.

    .venv/bin/python bench/logsink_ingest.py                   # SQLite + local folder
    .venv/bin/python bench/logsink_ingest.py --postgres --s3   # PostgreSQL + S3 (moto)
    .venv/bin/python bench/logsink_ingest.py --records 1000000 # memory over 1M records
    .venv/bin/python bench/logsink_ingest.py --text-mode redacted
    .venv/bin/python bench/logsink_ingest.py --text repeated

Memory is the LogSink process's peak resident set (VmHWM from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc

from services.common.db import create_engine
from services.logsink.records import Limits, parse
from services.logsink.store import SQLITE_WAL_AUTOCHECKPOINT_PAGES, metadata, records

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REPEATED_TEXT = ("The model answered the question about the refund policy in detail. " * 16)[:1024]


def varied_texts() -> list[str]:
    """The benign prompts run together and cut into 1 KB texts, no two sharing a prompt.

    Distinct texts, so that compressing several records together gains only what
    different texts have in common (the same language, words), as different answers do.
    """
    lines = (ROOT / "tests/data/benign_prompts.jsonl").read_text().splitlines()
    texts = []
    parts: list[str] = []
    for line in lines:
        parts.append(json.loads(line)["text"])
        if sum(len(part.encode()) + 1 for part in parts) >= 1024:
            texts.append("\n".join(parts).encode()[:1024].decode(errors="ignore"))
            parts = []
    return texts


def folder_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"llmops_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def moto_environment(endpoint: str, bucket: str) -> dict[str, str]:
    """The settings that store objects in ``bucket`` of the moto server at ``endpoint``."""
    return {
        "LLMOPS_OBJECT_STORE": f"s3://{bucket}",
        "LLMOPS_S3_ENDPOINT": endpoint,
        "LLMOPS_S3_ACCESS_KEY": "testing",
        "LLMOPS_S3_SECRET_KEY": "testing",
        "LLMOPS_S3_REGION": "us-east-1",
    }


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def make_batch(
    batch_no: int, size: int, texts: list[str] | None = None
) -> logsink_pb2.StreamRecordsRequest:
    """``size`` records whose responses go round ``texts`` (default: the repeated one)."""
    texts = texts or [REPEATED_TEXT]
    request = logsink_pb2.StreamRecordsRequest(batch_id=f"b{batch_no}")
    now = int(time.time())
    for i in range(size):
        r = request.records.add(
            request_id=str(uuid.uuid4()),
            model=("gpt-4o-mini", "gpt-4.1", "claude-sonnet-4")[i % 3],
            prompt_template="support-answer@v3",
            latency_ms=100.0 + (i % 997),
            status=common_pb2.CALL_STATUS_SUCCESS,
            user_id=f"user-{i % 5000}",
            prompt_hash="0123456789abcdef",
            response_text=texts[(batch_no * size + i) % len(texts)],
        )
        r.timestamp.seconds = now
        r.usage.input_tokens = 500 + i % 300
        r.usage.output_tokens = 200 + i % 100
    return request


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (load-independent cost)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine have used so far, summed over cores."""
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    ticks = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_serving(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(300):
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("LogSink did not start")


async def stream_all(
    address: str, total: int, batch_size: int, texts: list[str]
) -> tuple[float, int]:
    """Stream ``total`` records; returns (seconds from first send to last ack, stored)."""
    batches = total // batch_size
    # Built in advance (up to a window) so client-side message building is not timed.
    prebuilt = [make_batch(n, batch_size, texts) for n in range(min(batches, 50))]
    stored = 0

    async def requests() -> AsyncIterator[logsink_pb2.StreamRecordsRequest]:
        for n in range(batches):
            if n < len(prebuilt):
                yield prebuilt[n]
            else:
                # Past the window, reuse a prebuilt batch with fresh ids.
                reused = prebuilt[n % len(prebuilt)]
                for r in reused.records:
                    r.request_id = str(uuid.uuid4())
                reused.batch_id = f"b{n}"
                yield reused

    options = [("grpc.max_send_message_length", 64 << 20)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        stub = logsink_pb2_grpc.LogSinkServiceStub(channel)
        started = time.perf_counter()
        async for ack in stub.StreamRecords(requests()):
            stored += ack.stored
        elapsed = time.perf_counter() - started
    return elapsed, stored


def raw_insert(database_url: str, total: int, batch_size: int) -> float:
    """Seconds to insert the same rows with the driver's bulk path, one commit per batch."""
    engine = create_engine(database_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    template = make_batch(0, batch_size)
    columns = [c.name for c in records.columns if c.name != "id"]
    now_us = time.time_ns() // 1000
    limits = Limits(max_text_bytes=1 << 20, max_future_us=0)
    rows_per_batch = [
        [tuple(parse(r, "default", now_us, limits)[c] for c in columns) for r in template.records]
    ]
    batches = total // batch_size
    # Fresh random UUIDs, as the stream sends, so the unique index does the same work;
    # generated before the clock starts.
    ids = iter([str(uuid.uuid4()) for _ in range(batches * batch_size)])
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        # The durability LogSink acks with, and its checkpoint interval.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        placeholders = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {records.name} ({', '.join(columns)}) VALUES ({placeholders})"
        started = time.perf_counter()
        for _ in range(batches):
            rows = [(*row[:1], next(ids), *row[2:]) for row in rows_per_batch[0]]
            conn.executemany(sql, rows)
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed
    with psycopg.connect(database_url) as conn:
        started = time.perf_counter()
        for _ in range(batches):
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY {records.name} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows_per_batch[0]:
                    copy.write_row((*row[:1], next(ids), *row[2:]))
            conn.commit()
        return time.perf_counter() - started


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, backends(args) as (database_url, raw_url, s3):
        port = free_port()
        env = {
            **os.environ,
            "LLMOPS_LOGSINK_PORT": str(port),
            "LLMOPS_LOGSINK_METRICS_PORT": "0",
            "LLMOPS_DATABASE_URL": database_url or f"sqlite:///{tmp}/logsink.db",
            "LLMOPS_LOGSINK_TEXT_MODE": args.text_mode,
            "LLMOPS_PSEUDONYM_SECRET": "bench-secret-0123456789abcdef",
            "LLMOPS_LOG_LEVEL": "WARNING",
            "LLMOPS_MAX_MESSAGE_BYTES": str(64 << 20),
        }
        if s3:
            env.update(moto_environment(s3, "bench"))
        else:
            env["LLMOPS_OBJECT_STORE"] = f"file:{tmp}/objects"
        server = subprocess.Popen(
            [sys.executable, "-m", "services.logsink"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            address = f"127.0.0.1:{port}"
            asyncio.run(wait_serving(address))
            idle_rss = peak_rss_mb(server.pid)
            cpu_before = cpu_seconds(server.pid)
            client_before = time.process_time()
            machine_before = machine_busy_seconds()
            texts = varied_texts() if args.text == "varied" else [REPEATED_TEXT]
            elapsed, stored = asyncio.run(stream_all(address, args.records, args.batch_size, texts))
            server_cpu = cpu_seconds(server.pid) - cpu_before
            client_cpu = time.process_time() - client_before
            machine_cpu = machine_busy_seconds() - machine_before
            peak = peak_rss_mb(server.pid)
            segment_bytes = None if s3 else folder_bytes(Path(tmp) / "objects")
        finally:
            server.terminate()
            server.wait(timeout=30)
        raw_seconds = raw_insert(
            raw_url or f"sqlite:///{tmp}/raw.db", args.records, args.batch_size
        )

    rate = stored / elapsed
    raw_rate = args.records / raw_seconds
    db = "PostgreSQL" if args.postgres else "SQLite"
    store = "S3 (moto server)" if args.s3 else "local folder"
    print(
        f"LogSink ingest: {db} + {store}, text mode {args.text_mode}, "
        f"{args.records} records x 1 KB ({args.text} text), batches of {args.batch_size}"
    )
    print(f"  acked stream:  {rate:,.0f} records/s ({stored} stored in {elapsed:.1f} s)")
    print(
        f"  CPU per record: LogSink {server_cpu / stored * 1e6:.1f} us, "
        f"client {client_cpu / stored * 1e6:.1f} us "
        f"(LogSink alone could do {stored / server_cpu:,.0f} records per CPU-second)"
    )
    others = machine_cpu - server_cpu - client_cpu
    print(
        f"  CPU per record, whole machine: {machine_cpu / stored * 1e6:.1f} us "
        f"(database, object store, kernel and the rest: {others / stored * 1e6:.1f} us); "
        f"{os.cpu_count()} cores"
    )
    print(f"  raw bulk insert (same rows, no gRPC, no texts): {raw_rate:,.0f} records/s")
    print(f"  ratio stream / raw: {rate / raw_rate:.2f}")
    print(f"  LogSink peak RSS: {peak:.0f} MB (after start-up: {idle_rss:.0f} MB)")
    if segment_bytes is not None:
        text_bytes = sum(len(texts[n % len(texts)].encode()) for n in range(stored))
        print(
            f"  segment objects: {segment_bytes / 1e6:.1f} MB for {text_bytes / 1e6:.1f} MB "
            f"of text ({segment_bytes / text_bytes:.0%})"
        )


@contextmanager
def backends(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None, str | None]]:
    """The databases (served, raw baseline) and S3 endpoint this run uses."""
    if args.postgres:
        with postgres_database() as served, postgres_database() as raw:
            if args.s3:
                with moto_server() as s3:
                    yield served, raw, s3
            else:
                yield served, raw, None
    elif args.s3:
        with moto_server() as s3:
            yield None, None, s3
    else:
        yield None, None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--text", default="varied", choices=["varied", "repeated"])
    parser.add_argument("--text-mode", default="full", choices=["full", "redacted", "none"])
    run(parser.parse_args())


if __name__ == "__main__":
    main()
