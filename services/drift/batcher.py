"""Micro-batching of embedding requests from concurrent RPCs.

A transformer encodes a batch of 64 texts far faster than 64 batches of one, but
RPCs arrive one at a time with a few texts each. The batcher gathers the texts of
concurrent requests into one batch (up to ``max_batch`` texts, waiting at most
``max_wait`` seconds after the oldest pending request arrived) and runs the encoder
in one dedicated thread, off the event loop. While the encoder works on one batch,
the next one fills up, so under load batches leave full and without waiting;
under light load a request waits at most ``max_wait`` before its batch starts.

A request larger than ``max_batch`` is cut into chunks so that a 5000-text
baseline does not hold up small requests for its whole duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from services.common.errors import Unavailable

logger = logging.getLogger(__name__)

EncodeFn = Callable[[list[str]], np.ndarray]


@dataclass
class _Chunk:
    texts: list[str]
    future: asyncio.Future[np.ndarray]
    arrived: float = field(default_factory=time.monotonic)


class MicroBatcher:
    """Gathers ``encode`` calls into batches run by ``encode_fn`` in one worker thread.

    Create it inside a running event loop; call :meth:`close` when done.
    """

    def __init__(self, encode_fn: EncodeFn, max_batch: int, max_wait: float) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait < 0:
            raise ValueError("max_wait must not be negative")
        self._encode_fn = encode_fn
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._pending: deque[_Chunk] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift-encoder")
        self._closed = False
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="drift-batcher")
        self.batches = 0
        """Batches encoded so far (for tests and benchmarks)."""

    async def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` in order, one row per text."""
        if self._closed:
            raise Unavailable("the encoder is shutting down")
        if not texts:
            return self._encode_fn([])
        loop = asyncio.get_running_loop()
        chunks = [
            _Chunk(list(texts[start : start + self._max_batch]), loop.create_future())
            for start in range(0, len(texts), self._max_batch)
        ]
        self._pending.extend(chunks)
        self._wakeup.set()
        try:
            parts = await asyncio.gather(*(chunk.future for chunk in chunks))
        except BaseException:
            # The caller went away (cancelled RPC): its queued chunks need no work.
            for chunk in chunks:
                chunk.future.cancel()
            raise
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    async def close(self) -> None:
        """Stop the worker; requests still queued fail with UNAVAILABLE."""
        self._closed = True
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        while self._pending:
            chunk = self._pending.popleft()
            if not chunk.future.done():
                chunk.future.set_exception(Unavailable("the encoder is shutting down"))
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                await self._fill(self._pending[0].arrived + self._max_wait)
                batch = self._take()
                if not batch:
                    continue
                texts = [text for chunk in batch for text in chunk.texts]
                try:
                    vectors = await loop.run_in_executor(self._executor, self._encode_fn, texts)
                except Exception as exc:
                    logger.exception("encoding a batch of %d texts failed", len(texts))
                    for chunk in batch:
                        if not chunk.future.done():
                            chunk.future.set_exception(exc)
                    continue
                self.batches += 1
                start = 0
                for chunk in batch:
                    end = start + len(chunk.texts)
                    if not chunk.future.done():
                        chunk.future.set_result(vectors[start:end])
                    start = end

    async def _fill(self, deadline: float) -> None:
        """Wait until a full batch is pending or the oldest request's wait is over."""
        while self._pending_texts() < self._max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return

    def _pending_texts(self) -> int:
        return sum(len(chunk.texts) for chunk in self._pending if not chunk.future.done())

    def _take(self) -> list[_Chunk]:
        """Pop whole chunks, oldest first, while they fit in one batch."""
        batch: list[_Chunk] = []
        size = 0
        while self._pending:
            chunk = self._pending[0]
            if chunk.future.done():
                self._pending.popleft()
                continue
            if batch and size + len(chunk.texts) > self._max_batch:
                break
            self._pending.popleft()
            batch.append(chunk)
            size += len(chunk.texts)
        return batch
