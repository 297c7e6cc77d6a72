"""The micro-batcher with a recording encoder standing in for the model."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from services.common.errors import Unavailable
from services.drift.batcher import MicroBatcher


class RecordingEncoder:
    """Encodes text i as the vector [len(text), hash]; records every batch it gets."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.delay = delay
        self.fail = fail

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.threads.add(threading.get_ident())
        self.batches.append(list(texts))
        if self.fail:
            raise RuntimeError("model exploded")
        time.sleep(self.delay)
        return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32).reshape(
            len(texts), 2
        )


def _expected(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


async def test_concurrent_requests_share_one_batch_and_get_their_own_rows() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_batch=64, max_wait=0.05)
    requests = [[f"text {i}-{j}" for j in range(3)] for i in range(10)]
    try:
        results = await asyncio.gather(*(batcher.encode(r) for r in requests))
    finally:
        await batcher.close()
    assert len(encoder.batches) == 1
    assert len(encoder.batches[0]) == 30
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result, _expected(request))


async def test_encoding_runs_off_the_event_loop_thread() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_batch=8, max_wait=0.0)
    try:
        await batcher.encode(["a", "b"])
    finally:
        await batcher.close()
    assert threading.get_ident() not in encoder.threads


async def test_large_request_is_cut_into_batches_of_at_most_max_batch() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_batch=16, max_wait=0.0)
    texts = [f"t{i}" for i in range(50)]
    try:
        result = await batcher.encode(texts)
    finally:
        await batcher.close()
    assert [len(b) for b in encoder.batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(result, _expected(texts))


async def test_small_request_is_not_stuck_behind_a_large_one() -> None:
    encoder = RecordingEncoder(delay=0.01)
    batcher = MicroBatcher(encoder, max_batch=10, max_wait=0.0)
    try:
        big = asyncio.ensure_future(batcher.encode([f"big{i}" for i in range(100)]))
        await asyncio.sleep(0)
        small = await batcher.encode(["small"])
        assert not big.done()
        await big
    finally:
        await batcher.close()
    # The small request took its turn after the first batch, not after all ten.
    position = next(i for i, b in enumerate(encoder.batches) if "small" in b)
    assert position == 1
    assert sum(len(b) for b in encoder.batches) == 101
    assert max(len(b) for b in encoder.batches) == 10
    np.testing.assert_array_equal(small, _expected(["small"]))


async def test_lone_request_waits_at_most_max_wait() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_batch=64, max_wait=0.02)
    try:
        started = time.monotonic()
        await batcher.encode(["alone"])
        elapsed = time.monotonic() - started
    finally:
        await batcher.close()
    assert elapsed < 1.0
    assert encoder.batches == [["alone"]]


async def test_encoder_error_fails_only_that_batch() -> None:
    encoder = RecordingEncoder(fail=True)
    batcher = MicroBatcher(encoder, max_batch=4, max_wait=0.0)
    try:
        with pytest.raises(RuntimeError, match="exploded"):
            await batcher.encode(["x"])
        encoder.fail = False
        np.testing.assert_array_equal(await batcher.encode(["y"]), _expected(["y"]))
    finally:
        await batcher.close()


async def test_cancelled_request_is_not_encoded() -> None:
    encoder = RecordingEncoder(delay=0.05)
    batcher = MicroBatcher(encoder, max_batch=1, max_wait=0.0)
    try:
        first = asyncio.ensure_future(batcher.encode(["first"]))
        second = asyncio.ensure_future(batcher.encode(["second"]))
        await asyncio.sleep(0.01)
        second.cancel()
        await first
        await batcher.encode(["third"])
    finally:
        await batcher.close()
    assert ["second"] not in encoder.batches
    assert encoder.batches == [["first"], ["third"]]


async def test_close_fails_running_and_queued_requests_and_refuses_new_ones() -> None:
    encoder = RecordingEncoder(delay=0.1)
    batcher = MicroBatcher(encoder, max_batch=1, max_wait=0.0)
    running = asyncio.ensure_future(batcher.encode(["running"]))
    queued = asyncio.ensure_future(batcher.encode(["queued"]))
    await asyncio.sleep(0.02)
    await batcher.close()
    for request in (running, queued):
        with pytest.raises(Unavailable):
            await request
    with pytest.raises(Unavailable):
        await batcher.encode(["late"])


async def test_empty_request_needs_no_batch() -> None:
    encoder = RecordingEncoder()
    batcher = MicroBatcher(encoder, max_batch=4, max_wait=0.0)
    try:
        assert (await batcher.encode([])).shape == (0, 2)
    finally:
        await batcher.close()
