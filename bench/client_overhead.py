"""What monitoring adds to one LLM call, measured through the real openai SDK.

Same run, same local OpenAI-compatible server (answers in well under a millisecond,
so the overhead is not hidden behind a real model's latency):

* plain ``openai.OpenAI`` call (the baseline);
* wrapped, records only (LogSink target = a gRPC endpoint acknowledging batches);
* wrapped with the real GuardrailService (its own process, shipped default policy,
  pattern tier) on input and output, plus records;
* the same three for a streamed answer, where the output guard is the bidirectional
  CheckOutputStream: once as fast as the server can stream, once paced like a model
  (a chunk every 20 ms), where the pipelined guard vets chunks while the next ones
  are generated.

Run: ``.venv/bin/python bench/client_overhead.py [--calls 300]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import openai
from llmops import Monitor
from llmops.testing.openai_server import FakeOpenAIServer
from llmops.v1 import logsink_pb2, logsink_pb2_grpc

PACED_CHUNK_MS = 20
MESSAGES = [
    {"role": "system", "content": "You are a helpful support agent for an online shop."},
    {"role": "user", "content": "My order 1234 has not arrived yet, what can I do?"},
]


class _AckingSink(logsink_pb2_grpc.LogSinkServiceServicer):
    def StreamRecords(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        for request in request_iterator:
            yield logsink_pb2.StreamRecordsResponse(
                batch_id=request.batch_id, stored=len(request.records)
            )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_guardrail(folder: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """The real GuardrailService as its own process (as deployed: no shared GIL)."""
    port = _free_port()
    env = {
        **os.environ,
        "LLMOPS_GUARDRAIL_PORT": str(port),
        "LLMOPS_GUARDRAIL_METRICS_PORT": str(_free_port()),
        "LLMOPS_PSEUDONYM_SECRET": "bench-secret-0123456789",
        "LLMOPS_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.guardrail"],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=180)
    return port, process


def measure(calls: list[Callable[[], None]], n: int) -> list[float]:
    """Median ms of each call; interleaved so that machine noise hits all of them alike."""
    for call in calls:
        for _ in range(min(20, n)):
            call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for call, out in zip(calls, samples, strict=True):
            start = time.perf_counter()
            call()
            out.append((time.perf_counter() - start) * 1000)
    return [statistics.median(out) for out in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    sink_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    logsink_pb2_grpc.add_LogSinkServiceServicer_to_server(_AckingSink(), sink_server)
    sink_port = sink_server.add_insecure_port("127.0.0.1:0")
    sink_server.start()
    with FakeOpenAIServer() as llm, tempfile.TemporaryDirectory() as spool:
        guard_port, guardrail = _start_guardrail(Path(spool))
        raw = openai.OpenAI(base_url=llm.base_url, api_key="t", max_retries=0)
        records_only = Monitor(logsink=f"127.0.0.1:{sink_port}", spool_dir=Path(spool) / "a")
        guarded = Monitor(
            guardrail=f"127.0.0.1:{guard_port}",
            logsink=f"127.0.0.1:{sink_port}",
            guard_timeout=1.0,
            spool_dir=Path(spool) / "b",
        )
        clients = {
            "plain openai": raw,
            "wrapped, records only": records_only.wrap(raw),
            "wrapped, guard in+out + records": guarded.wrap(raw),
        }

        def once(c: Any) -> Callable[[], None]:
            return lambda: c.chat.completions.create(model="fake-1", messages=MESSAGES)

        def streamed(c: Any, chunk_delay_ms: int = 0) -> Callable[[], None]:
            headers = {"x-fake-chunk-delay-ms": str(chunk_delay_ms)}

            def run() -> None:
                for _ in c.chat.completions.create(
                    model="fake-1", messages=MESSAGES, stream=True, extra_headers=headers
                ):
                    pass

            return run

        calls = measure([once(c) for c in clients.values()], args.calls)
        streams = measure([streamed(c) for c in clients.values()], args.calls)
        # A model emitting a chunk every 20 ms: the pipelined guard works meanwhile.
        paced = measure(
            [streamed(c, PACED_CHUNK_MS) for c in clients.values()], max(10, args.calls // 10)
        )
        rows = list(zip(clients, calls, streams, paced, strict=True))
        records_only.close(10)
        guarded.close(10)
        guardrail.terminate()
        guardrail.wait(30)
    sink_server.stop(None)

    base = rows[0][1:]
    print(
        f"{'client':<34} {'call p50':>10} {'ratio':>7} {'stream p50':>12} {'ratio':>7} "
        f"{'paced stream p50':>17} {'ratio':>7}"
    )
    for name, *figures in rows:
        cells = " ".join(
            f"{ms:10.2f}ms {ms / b:6.2f}x" for ms, b in zip(figures, base, strict=True)
        )
        print(f"{name:<34} {cells}")


if __name__ == "__main__":
    main()
