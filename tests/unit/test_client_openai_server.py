"""The local OpenAI-compatible test server, driven by the real openai SDK."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import openai
import pytest
from llmops.testing.openai_server import FakeLLM, FakeOpenAIServer


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(llm=FakeLLM(cache_min_tokens=64, cache_granularity=16)) as srv:
        yield srv


@pytest.fixture
def client(server: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)


def ask(client: openai.OpenAI, text: str, **kwargs: object) -> object:
    return client.chat.completions.create(
        model=kwargs.pop("model", "fake-1"),  # type: ignore[arg-type]
        messages=[{"role": "user", "content": text}],
        **kwargs,  # type: ignore[arg-type]
    )


def test_answers_are_deterministic_per_request_and_differ_across_requests(
    client: openai.OpenAI,
) -> None:
    first = ask(client, "How do I get a refund?")
    again = ask(client, "How do I get a refund?")
    other = ask(client, "Where is my parcel?")
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content
    assert first.usage.prompt_tokens > 0
    assert first.usage.completion_tokens > 0


def test_repeated_long_prefix_reports_cached_tokens(client: openai.OpenAI) -> None:
    system = {"role": "system", "content": "policy " * 200}
    messages = [system, {"role": "user", "content": "first question"}]
    cold = client.chat.completions.create(model="fake-1", messages=messages)  # type: ignore[arg-type]
    messages[1] = {"role": "user", "content": "second question"}
    warm = client.chat.completions.create(model="fake-1", messages=messages)  # type: ignore[arg-type]
    assert cold.usage.prompt_tokens_details.cached_tokens == 0
    cached = warm.usage.prompt_tokens_details.cached_tokens
    # The 200-word system message (plus its overhead), in whole cache-granularity steps.
    assert 200 - 16 < cached <= 204
    assert cached % 16 == 0


def test_reasoning_models_report_reasoning_tokens_inside_completion_tokens(
    client: openai.OpenAI,
) -> None:
    answer = ask(client, "think hard", model="o3-mini")
    reasoning = answer.usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert answer.usage.completion_tokens > reasoning
    assert ask(client, "think hard").usage.completion_tokens_details.reasoning_tokens == 0


def test_stream_concatenates_to_the_full_answer_with_a_final_usage_chunk(
    client: openai.OpenAI,
) -> None:
    whole = ask(client, "stream me")
    chunks = list(
        ask(client, "stream me", stream=True, stream_options={"include_usage": True})  # type: ignore[arg-type]
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_errors_on_demand_by_header_and_by_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        ask(client, "hi", extra_headers={"x-fake-error": "429"})
    with pytest.raises(openai.InternalServerError):
        ask(client, "hi", model="error-500")


def test_latency_on_demand_triggers_client_timeouts(server: FakeOpenAIServer) -> None:
    slow = openai.OpenAI(base_url=server.base_url, api_key="t", max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        ask(slow, "hi", extra_headers={"x-fake-latency-ms": "1000"})


def test_echo_returns_the_text_verbatim(client: openai.OpenAI) -> None:
    assert ask(client, "ECHO: mail bob@example.com").choices[0].message.content == (
        "mail bob@example.com"
    )


def test_drifted_style_changes_the_answers(client: openai.OpenAI) -> None:
    normal = ask(client, "tell me about shipping").choices[0].message.content
    drifted = (
        ask(client, "tell me about shipping", extra_headers={"x-fake-style": "drifted"})
        .choices[0]
        .message.content
    )
    assert normal != drifted
    assert not set(normal.split()) & {"lessee", "hereinbefore", "heraldic", "tribunal"}


def test_bad_requests_get_openai_style_400s(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="fake-1", messages=[])


def test_runs_as_a_module_on_the_given_port() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "llmops.testing.openai_server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" on ")[1].strip()
        answer = openai.OpenAI(base_url=base_url, api_key="t", max_retries=0)
        assert ask(answer, "hello").choices[0].message.content
    finally:
        process.terminate()
        process.wait(10)
