"""Micro-batching of embedding requests from concurrent RPCs.

A transformer encodes a batch of 64 texts far faster than 64 batches of one, but
RPCs arrive one at a time with a few texts each. The batcher gathers the texts of
concurrent requests into one batch (up to ``max_batch`` texts, waiting at most
``max_wait`` seconds after the oldest pending request arrived) and runs the encoder
in one dedicated thread, off the event loop. While the encoder works on one batch,
the next one fills up, so under load batches leave full and without waiting;
under light load a request waits at most ``max_wait`` before its batch starts.

A request larger than ``max_batch`` is served a batch at a time, taking turns
with the other requests, so a 5000-text baseline does not hold up small
requests for its whole duration.
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
from services.drift.metrics import EMBEDDING_BATCH_TEXTS, EMBEDDING_SECONDS

logger = logging.getLogger(__name__)

EncodeFn = Callable[[list[str]], np.ndarray]


@dataclass(eq=False)
class _Request:
    texts: list[str]
    future: asyncio.Future[np.ndarray]
    arrived: float = field(default_factory=time.monotonic)
    taken: int = 0
    """Texts already handed to a batch."""
    parts: list[np.ndarray] = field(default_factory=list)
    encoded: int = 0


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
        self._pending: deque[_Request] = deque()
        self._in_flight: list[_Request] = []
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift-encoder")
        self._closed = False
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="drift-batcher")

    async def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` in order, one row per text."""
        if self._closed:
            raise Unavailable("the encoder is shutting down")
        if not texts:
            return self._encode_fn([])
        request = _Request(list(texts), asyncio.get_running_loop().create_future())
        self._pending.append(request)
        self._wakeup.set()
        # If the caller is cancelled, so is the future, and the worker skips the rest.
        return await request.future

    async def close(self) -> None:
        """Stop the worker; requests not yet answered fail with UNAVAILABLE."""
        self._closed = True
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        for request in [*self._in_flight, *self._pending]:
            if not request.future.done():
                request.future.set_exception(Unavailable("the encoder is shutting down"))
        self._pending.clear()
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
                self._in_flight = [request for request, _, _ in batch]
                texts = [text for request, start, end in batch for text in request.texts[start:end]]
                started = time.perf_counter()
                try:
                    vectors = await loop.run_in_executor(self._executor, self._encode_fn, texts)
                except Exception as exc:
                    logger.exception("encoding a batch of %d texts failed", len(texts))
                    for request, _, _ in batch:
                        if not request.future.done():
                            request.future.set_exception(exc)
                    self._in_flight = []
                    continue
                # Not in a ``finally``: when close() cancels this task mid-batch, it
                # still needs the in-flight requests to fail them.
                self._in_flight = []
                EMBEDDING_SECONDS.observe(time.perf_counter() - started)
                EMBEDDING_BATCH_TEXTS.observe(len(texts))
                offset = 0
                for request, start, end in batch:
                    count = end - start
                    if not request.future.done():
                        request.parts.append(vectors[offset : offset + count])
                        request.encoded += count
                        if request.encoded == len(request.texts):
                            parts = request.parts
                            request.future.set_result(
                                parts[0] if len(parts) == 1 else np.concatenate(parts)
                            )
                    offset += count

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
        return sum(len(r.texts) - r.taken for r in self._pending if not r.future.done())

    def _take(self) -> list[tuple[_Request, int, int]]:
        """Fill one batch round-robin: each request in turn gives what still fits.

        A request with texts left over goes to the back of the queue, so a large
        request shares the model with small ones instead of holding it.
        """
        batch: list[tuple[_Request, int, int]] = []
        room = self._max_batch
        while room and self._pending:
            request = self._pending[0]
            if request.future.done():
                self._pending.popleft()
                continue
            start = request.taken
            end = min(len(request.texts), start + room)
            request.taken = end
            batch.append((request, start, end))
            room -= end - start
            if end == len(request.texts):
                self._pending.popleft()
            else:
                self._pending.rotate(-1)
        return batch
