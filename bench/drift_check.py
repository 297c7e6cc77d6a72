"""Time of a 1000-vs-1000 drift check with its MMD permutation test.

Usage: .venv/bin/python bench/drift_check.py [baseline] [window] [permutations]

Three figures, best of 5 runs (the machine is shared and noisy; the slow
textbook loop runs once):

* the engine's MMD test: kernel matrix computed once, all permutations as one
  matrix product;
* the textbook loop it replaces, measured in the same run: the same kernel
  matrix, but each permutation re-indexes it and sums the three blocks;
* a whole CheckDrift RPC on an in-process server (SQLite, local folder): load the
  window from SQL, the baseline from cache, run the test and the calibrated
  distance, pick the examples, store the result.

The embeddings are synthetic unit vectors clustered like sentence embeddings of a
few topics; the timing depends only on the sizes, not on the values.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
from llmops.v1 import drift_pb2, drift_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.db import create_engine
from services.common.embeddings import EMBEDDING_DIM
from services.common.objectstore import LocalObjectStore
from services.common.server import running_server
from services.drift import stats
from services.drift.servicer import SPEC
from services.drift.settings import DriftSettings
from services.drift.store import Baseline, DriftStore

RUNS = 5


def clustered(n: int, rng: np.random.Generator, topics: int = 6) -> np.ndarray:
    centers = rng.normal(size=(topics, EMBEDDING_DIM))
    points = centers[rng.integers(topics, size=n)] + 1.2 * rng.normal(size=(n, EMBEDDING_DIM))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def textbook_mmd(
    x: np.ndarray, y: np.ndarray, permutations: int, rng: np.random.Generator
) -> float:
    """One kernel matrix, then a Python loop of block sums per permutation."""
    pooled = np.concatenate([x, y]).astype(np.float64)
    n, size = len(x), len(x) + len(y)
    sq = np.maximum(2.0 - 2.0 * pooled @ pooled.T, 0.0)
    kernel = np.exp(-sq / (2.0 * np.median(sq[~np.eye(size, dtype=bool)])))

    def mmd2(order: np.ndarray) -> float:
        a, b = order[:n], order[n:]
        return float(
            kernel[np.ix_(a, a)].mean()
            + kernel[np.ix_(b, b)].mean()
            - 2 * kernel[np.ix_(a, b)].mean()
        )

    observed = mmd2(np.arange(size))
    extreme = sum(mmd2(rng.permutation(size)) >= observed for _ in range(permutations))
    return (1 + extreme) / (1 + permutations)


def best_of(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


async def check_rpc_time(base: np.ndarray, window: np.ndarray, permutations: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settings = dataclasses.replace(
            DriftSettings(),
            database_url=f"sqlite:///{tmp}/drift.db",
            object_store=f"file:{tmp}/objects",
            drift_window_size=len(window),
            drift_permutations=permutations,
        )
        engine = create_engine(settings.database_url)
        store = DriftStore(engine, LocalObjectStore(Path(tmp) / "objects"))
        store.migrate()
        texts = [f"answer {i}" for i in range(len(base))]
        calibration = stats.calibrate(base, 500, np.random.default_rng(0))
        store.set_baseline("default", "bench", Baseline("b" * 32, base, texts), calibration)
        store.append_window("default", "bench", texts[: len(window)], window, len(window))
        engine.dispose()
        async with (
            running_server(SPEC, settings) as built,
            grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
        ):
            stub = drift_pb2_grpc.DriftServiceStub(channel)
            request = drift_pb2.CheckDriftRequest(monitor_id="bench")
            await stub.CheckDrift(request, timeout=60)  # loads the baseline into the cache
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                await stub.CheckDrift(request, timeout=60)
                times.append(time.perf_counter() - started)
            return min(times)


def main(n: int, m: int, permutations: int) -> None:
    rng = np.random.default_rng(1)
    base, window = clustered(n, rng), clustered(m, rng)
    engine_time = best_of(
        lambda: stats.mmd_permutation_test(base, window, permutations, np.random.default_rng(2))
    )
    # One run: it takes seconds, so scheduler noise matters far less.
    textbook_time = best_of(
        lambda: textbook_mmd(base, window, permutations, np.random.default_rng(2)), runs=1
    )
    rpc_time = asyncio.run(check_rpc_time(base, window, permutations))
    print(f"baseline={n} window={m} permutations={permutations}")
    print(f"engine MMD permutation test:    {engine_time * 1000:8.1f} ms")
    print(f"textbook per-permutation loop:  {textbook_time * 1000:8.1f} ms")
    print(f"speed-up engine / textbook:     {textbook_time / engine_time:8.1f}x")
    print(f"whole CheckDrift RPC:           {rpc_time * 1000:8.1f} ms (target <= 1000 ms)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [1000, 1000, 200][len(args) :]))
