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
import functools
import sys
import tempfile
from pathlib import Path

import grpc
from llmops.v1 import experiment_pb2 as pb
from llmops.v1 import experiment_pb2_grpc
from rpc_ratio import Call, alternate, health_check, print_ratio

from services.common.server import running_server
from services.experiment.servicer import SPEC
from services.experiment.settings import ExperimentSettings


async def measure(calls: int, folder: Path) -> None:
    settings = ExperimentSettings(database_url=f"sqlite:///{folder / 'bench.db'}")
    async with (
        running_server(SPEC, settings) as built,
        grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
    ):
        stub = experiment_pb2_grpc.ExperimentServiceStub(channel)
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
        noop = health_check(channel)
        warm = functools.partial(
            stub.Assign, pb.AssignRequest(experiment_id="bench", user_id="warm"), timeout=5
        )
        await alternate(warm, noop, 500)  # warm up both paths and the channel
        # The second pass repeats the first pass's users, whose exposures are recorded.
        for label in ("new users", "returning users"):
            assign_ms, check_ms = await alternate(assign_each_user(stub, calls), noop, calls)
            print_ratio(f"Assign, {label}", assign_ms, check_ms)


def assign_each_user(stub: experiment_pb2_grpc.ExperimentServiceStub, calls: int) -> Call:
    """Assign calls for users user-0 ... user-<calls - 1>, one per call."""
    requests = iter(
        [pb.AssignRequest(experiment_id="bench", user_id=f"user-{i}") for i in range(calls)]
    )
    return lambda: stub.Assign(next(requests), timeout=5)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(calls, Path(folder)))


if __name__ == "__main__":
    main()
