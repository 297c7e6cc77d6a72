"""Assign RPC latency against a no-op RPC (grpc health Check) on the same server stack.

Run: .venv/bin/python bench/experiment_assign_rpc.py [calls]

One in-process ExperimentService (SQLite in a temp folder, the default exposure
writer running) and one client channel over loopback. Assign and Check calls
alternate, so machine noise hits both alike; the figure that matters is the
ratio of Assign's p99 to Check's p99 (target <= 1.25). Two Assign workloads:
new users (each call buffers a first exposure, flushed in the background) and
returning users (already recorded: no database work at all).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from llmops.v1 import experiment_pb2 as pb
from llmops.v1 import experiment_pb2_grpc

from services.common.server import running_server
from services.experiment.servicer import SPEC
from services.experiment.settings import ExperimentSettings


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(calls: int, folder: Path) -> None:
    settings = ExperimentSettings(database_url=f"sqlite:///{folder / 'bench.db'}")
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        await stub.CreateExperiment(
            pb.CreateExperimentRequest(
                experiment=pb.Experiment(
                    id="bench",
                    status=pb.EXPERIMENT_STATUS_RUNNING,
                    variants=[pb.Variant(name="a", weight=1), pb.Variant(name="b", weight=1)],
                )
            ),
            timeout=10,
        )
        check = health_pb2.HealthCheckRequest(service="")
        for _ in range(500):  # warm up both paths and the channel
            await health.Check(check, timeout=5)
            await stub.Assign(pb.AssignRequest(experiment_id="bench", user_id="warm"), timeout=5)
        # The second pass repeats the first pass's users, whose exposures are recorded.
        for label in ("new users", "returning users"):
            assign_ms: list[float] = []
            check_ms: list[float] = []
            for i in range(calls):
                request = pb.AssignRequest(experiment_id="bench", user_id=f"user-{i}")
                started = time.perf_counter()
                await stub.Assign(request, timeout=5)
                assign_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await health.Check(check, timeout=5)
                check_ms.append((time.perf_counter() - started) * 1000)
            report(label, assign_ms, check_ms)


def report(label: str, assign_ms: list[float], check_ms: list[float]) -> None:
    a50, a99 = statistics.median(assign_ms), percentile(assign_ms, 0.99)
    c50, c99 = statistics.median(check_ms), percentile(check_ms, 0.99)
    print(f"Assign, {label} ({len(assign_ms):,} calls, alternating with health Check):")
    print(f"  Assign p50 {a50:.3f} ms  p99 {a99:.3f} ms")
    print(f"  Check  p50 {c50:.3f} ms  p99 {c99:.3f} ms")
    print(f"  ratio  p50 {a50 / c50:.2f}x  p99 {a99 / c99:.2f}x  (target p99 <= 1.25x)")


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(calls, Path(folder)))


if __name__ == "__main__":
    main()
