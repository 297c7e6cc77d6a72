"""Cost of handing a call record to the client's shipper, on the application's thread.

Compares, in the same run (these machines are noisy, so ratios matter more than
absolute numbers):

* ``deque.append``: the floor, a bounded queue with nothing else;
* ``Shipper.enqueue``: the real shipper while its worker streams batches to a live
  gRPC StreamRecords endpoint on loopback (so the worker competes for the GIL, as in
  an application);
* build + enqueue: creating the CallRecord (uuid4, timestamp, fields) and enqueueing it,
  i.e. everything the wrapper adds after the LLM answered;
* the seed design's synchronous ``logger.info(json.dumps(record))`` to a log file.

Run: ``.venv/bin/python bench/client_enqueue.py [--records 50000]``
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from llmops import records
from llmops.channels import create_channel
from llmops.shipper import Shipper
from llmops.v1 import common_pb2, logsink_pb2, logsink_pb2_grpc


class _AckingSink(logsink_pb2_grpc.LogSinkServiceServicer):
    """Acknowledges every batch as stored: the network path without a database."""

    def __init__(self) -> None:
        self.received = 0

    def StreamRecords(self, request_iterator: Iterator[Any], context: Any) -> Iterator[Any]:
        for request in request_iterator:
            self.received += len(request.records)
            yield logsink_pb2.StreamRecordsResponse(
                batch_id=request.batch_id, stored=len(request.records)
            )


def sample_record() -> common_pb2.CallRecord:
    record = records.new_record(
        model="gpt-4o-mini",
        provider="openai",
        started_ns=time.time_ns(),
        user_id="user-123",
        prompt_template="support-answer@v3",
    )
    record.prompt_hash = "0123456789abcdef"
    record.usage.input_tokens = 812
    record.usage.output_tokens = 144
    record.latency_ms = 734.2
    record.status = common_pb2.CALL_STATUS_SUCCESS
    record.prompt_text = "user: How do I reset my password? " * 8
    record.response_text = "You can reset it from the account page. " * 6
    return record


def timed(operation: Callable[[int], None], n: int) -> list[float]:
    """Per-call latencies in microseconds."""
    out = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        operation(i)
        out.append((clock() - start) / 1000)
    return out


def describe(name: str, samples: list[float]) -> float:
    samples = sorted(samples)
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99)]
    print(f"{name:<42} median {median:8.2f} µs   p99 {p99:9.2f} µs")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    n = args.records
    prebuilt = [sample_record() for _ in range(n)]

    floor: deque[common_pb2.CallRecord] = deque()
    append = describe("deque.append (floor)", timed(lambda i: floor.append(prebuilt[i]), n))

    sink = _AckingSink()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    logsink_pb2_grpc.add_LogSinkServiceServicer_to_server(sink, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with tempfile.TemporaryDirectory() as spool:
        shipper = Shipper(
            lambda: create_channel(f"127.0.0.1:{port}", "llmops.v1.LogSinkService", retries=False),
            spool_dir=Path(spool),
            max_queue=max(8192, n),
        )
        enqueue = describe(
            "Shipper.enqueue (worker streaming)", timed(lambda i: shipper.enqueue(prebuilt[i]), n)
        )
        build = describe(
            "build CallRecord + Shipper.enqueue",
            timed(lambda i: shipper.enqueue(sample_record()), n),
        )
        start = time.perf_counter()
        delivered = shipper.flush(120)
        drain = time.perf_counter() - start
        shipper.close(10)
    server.stop(None)

    with tempfile.TemporaryDirectory() as folder:
        logger = logging.getLogger("bench.seed")
        logger.propagate = False
        handler = logging.FileHandler(Path(folder) / "calls.log")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

        def seed_log(i: int) -> None:
            r = prebuilt[i]
            logger.info(
                json.dumps(
                    {
                        "request_id": str(uuid.uuid4()),
                        "model": r.model,
                        "prompt_template": r.prompt_template,
                        "input_tokens": r.usage.input_tokens,
                        "output_tokens": r.usage.output_tokens,
                        "latency_ms": r.latency_ms,
                        "status": "success",
                        "prompt": r.prompt_text,
                        "response": r.response_text,
                    }
                )
            )

        seed = describe("seed: logger.info(json.dumps(...)) to file", timed(seed_log, n))
        handler.close()

    print(f"records {n}; all delivered and acknowledged: {delivered} ({sink.received} received)")
    print(f"drain after the timed loops: {drain:.2f} s")
    print(f"Shipper.enqueue / deque.append: {enqueue / append:.1f}x")
    print(f"seed synchronous logging / Shipper.enqueue: {seed / enqueue:.1f}x")
    print(f"build + enqueue median {build:.2f} µs (target: enqueue median <= 20 µs)")


if __name__ == "__main__":
    main()
