"""Offline tiktoken counting: vocabularies, model -> encoding, chat overhead."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from services.common.errors import InvalidArgument
from services.cost.tokens import (
    INLINE_COUNT_CHARS,
    VOCABULARIES,
    ChatMessage,
    ParallelCounter,
    TokenCounter,
    encoding_for_model,
    install_vocabularies,
    partition,
)


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return TokenCounter(tmp_path_factory.mktemp("tiktoken"))


@pytest.mark.parametrize(
    ("encoding", "text", "tokens"),
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("o200k_base", "hello world", [24912, 2375]),
        ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
    ],
)
def test_known_token_vectors(
    counter: TokenCounter, encoding: str, text: str, tokens: list[int]
) -> None:
    assert counter._encodings[encoding].encode_ordinary(text) == tokens


def test_count_uses_model_encoding(counter: TokenCounter) -> None:
    text = "Привет, как дела? Это тест токенизатора."
    o200k, choice = counter.count("gpt-4o-mini", text)
    assert choice.name == "o200k_base"
    cl100k, choice = counter.count("gpt-4", text)
    assert choice.name == "cl100k_base"
    assert o200k == len(counter._encodings["o200k_base"].encode_ordinary(text))
    assert cl100k == len(counter._encodings["cl100k_base"].encode_ordinary(text))
    assert o200k != cl100k


def test_special_token_text_is_counted_as_plain_text(counter: TokenCounter) -> None:
    tokens, _ = counter.count("gpt-4", "<|endoftext|>")
    assert tokens > 1


def test_batch_matches_single_counts(counter: TokenCounter) -> None:
    texts = ["", "a", "hello world", "ünïcödé " * 50]
    counts, choice = counter.count_batch("o3-mini", texts)
    assert choice.name == "o200k_base"
    assert counts == [counter.count("o3-mini", text)[0] for text in texts]
    assert counts[0] == 0


@pytest.mark.parametrize(
    ("sizes", "parts", "runs"),
    [
        ([10, 10, 10, 10], 2, [[10, 10], [10, 10]]),
        ([30, 1, 1, 1, 1], 2, [[30], [1, 1, 1, 1]]),
        ([1, 1, 1, 1, 30], 2, [[1, 1, 1, 1], [30]]),
        ([5, 5, 5], 4, [[5], [5], [5]]),
        ([7], 3, [[7]]),
        ([0, 0], 2, [[0], [0]]),
        ([0, 0, 0], 2, [[0], [0, 0]]),
        ([], 2, [[]]),
        ([3, 3, 3, 3, 3, 3], 3, [[3, 3], [3, 3], [3, 3]]),
    ],
)
def test_partition_cuts_consecutive_runs_of_about_equal_length(
    sizes: list[int], parts: int, runs: list[list[int]]
) -> None:
    texts = ["x" * size for size in sizes]
    found = partition(texts, parts)
    assert [[len(text) for text in run] for run in found] == runs
    assert [text for run in found for text in run] == texts


async def test_parallel_counter_counts_like_one_counter(
    counter: TokenCounter, tmp_path: Path
) -> None:
    parallel = await ParallelCounter.start(tmp_path, threads=3)
    try:
        large = [f"line {i}: naïve café 東京 " * (i * 40) for i in range(12)]
        assert sum(map(len, large)) >= 3 * INLINE_COUNT_CHARS
        small = ["hello world", ""]
        for texts in (large, small):
            counts, choice = await parallel.count_batch("gpt-4o", texts)
            assert (counts, choice) == counter.count_batch("gpt-4o", texts)
        long_text = " ".join(large)
        assert await parallel.count("claude-3-5-sonnet", long_text) == counter.count(
            "claude-3-5-sonnet", long_text
        )
        chat = [ChatMessage("user", long_text), ChatMessage("assistant", "ok", "bot")]
        assert await parallel.count_chat("gpt-4", chat) == counter.count_chat("gpt-4", chat)
        with pytest.raises(InvalidArgument):
            await parallel.count_chat("gpt-4", [])
    finally:
        parallel.close()


@pytest.mark.parametrize(
    ("model", "encoding", "estimated"),
    [
        ("gpt-4o", "o200k_base", False),
        ("gpt-4o-2024-08-06", "o200k_base", False),
        ("chatgpt-4o-latest", "o200k_base", False),
        ("gpt-4.1-nano", "o200k_base", False),
        ("gpt-4.5-preview", "o200k_base", False),
        ("gpt-5-mini", "o200k_base", False),
        ("gpt-5.1", "o200k_base", False),
        ("gpt-5.1-codex", "o200k_base", False),
        ("gpt-5.5-2026-04-23", "o200k_base", False),
        ("azure/gpt-5.6-sol", "o200k_base", False),
        ("o1", "o200k_base", False),
        ("o3-2025-04-16", "o200k_base", False),
        ("o4-mini", "o200k_base", False),
        ("openai/gpt-4o", "o200k_base", False),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base", False),
        ("gpt-4", "cl100k_base", False),
        ("gpt-4-turbo", "cl100k_base", False),
        ("gpt-3.5-turbo-0125", "cl100k_base", False),
        ("text-embedding-3-small", "cl100k_base", False),
        ("claude-sonnet-4", "cl100k_base", True),
        ("gemini-2.5-pro", "cl100k_base", True),
        ("llama-3.1-70b", "cl100k_base", True),
        ("o10-experimental", "cl100k_base", True),
        # Neither tiktoken's model table nor OpenAI names GPT-6's encoding: estimated.
        ("gpt-6-sol", "cl100k_base", True),
        ("gpt-6.1-terra", "cl100k_base", True),
        ("", "cl100k_base", True),
    ],
)
def test_model_to_encoding(model: str, encoding: str, estimated: bool) -> None:
    choice = encoding_for_model(model)
    assert (choice.name, choice.estimated) == (encoding, estimated)


# The OpenAI cookbook's "How to count tokens with tiktoken" example conversation,
# with the prompt_tokens the API reported for it.
COOKBOOK = [
    ChatMessage(
        "system",
        "You are a helpful, pattern-following assistant that translates corporate jargon "
        "into plain English.",
    ),
    ChatMessage("system", "New synergies will help drive top-line growth.", "example_user"),
    ChatMessage(
        "system", "Things working well together will increase revenue.", "example_assistant"
    ),
    ChatMessage(
        "system",
        "Let's circle back when we have more bandwidth to touch base on opportunities for "
        "increased leverage.",
        "example_user",
    ),
    ChatMessage(
        "system",
        "Let's talk later when we're less busy about how to do better.",
        "example_assistant",
    ),
    ChatMessage(
        "user",
        "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    ),
]


@pytest.mark.parametrize(
    ("model", "tokens"),
    [("gpt-3.5-turbo-0613", 129), ("gpt-4-0613", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124)],
)
def test_chat_count_matches_cookbook(counter: TokenCounter, model: str, tokens: int) -> None:
    assert counter.count_chat(model, COOKBOOK)[0] == tokens


def test_chat_overhead_is_three_per_message_one_per_name_three_priming(
    counter: TokenCounter,
) -> None:
    plain, _ = counter.count_chat("gpt-4o", [ChatMessage("user", "hi")])
    named, _ = counter.count_chat("gpt-4o", [ChatMessage("user", "hi", "bob")])
    encoding = counter._encodings["o200k_base"]
    assert plain == 3 + len(encoding.encode("user")) + len(encoding.encode("hi")) + 3
    assert named == plain + 1 + len(encoding.encode("bob"))


def test_chat_for_unknown_model_is_estimated(counter: TokenCounter) -> None:
    tokens, choice = counter.count_chat("claude-3-5-haiku", [ChatMessage("user", "hi")])
    assert choice.estimated
    assert tokens > 6


def test_empty_chat_is_invalid(counter: TokenCounter) -> None:
    with pytest.raises(InvalidArgument) as caught:
        counter.count_chat("gpt-4o", [])
    assert caught.value.field == "messages"


def test_install_writes_files_under_sha1_of_url(tmp_path: Path) -> None:
    install_vocabularies(tmp_path)
    for url, sha256 in VOCABULARIES.values():
        path = tmp_path / hashlib.sha1(url.encode()).hexdigest()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_install_repairs_a_corrupted_file(tmp_path: Path) -> None:
    url, sha256 = VOCABULARIES["o200k_base"]
    path = tmp_path / hashlib.sha1(url.encode()).hexdigest()
    path.write_bytes(b"corrupted")
    install_vocabularies(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_loading_opens_no_socket(tmp_path: Path) -> None:
    """In a fresh interpreter (no cached encodings) with every connect refused."""
    script = textwrap.dedent(
        f"""
        import socket
        def refuse(*args, **kwargs):
            raise AssertionError("network access attempted")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        from pathlib import Path
        from services.cost.tokens import TokenCounter
        counter = TokenCounter(Path({str(tmp_path)!r}))
        assert counter.count("gpt-4", "hello world")[0] == 2
        assert counter.count("gpt-4o", "hello world")[0] == 2
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HTTPS_PROXY": "http://192.0.2.1:9", "HTTP_PROXY": "http://192.0.2.1:9"},
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
