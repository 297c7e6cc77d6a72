"""Pure record-building helpers of the client: usage normalisation, hashes, statuses."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

from llmops import records
from llmops.v1 import common_pb2


def test_openai_usage_keeps_cached_and_reasoning_tokens_inside_the_totals() -> None:
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "prompt_tokens_details": {"cached_tokens": 1024},
        "completion_tokens_details": {"reasoning_tokens": 256},
    }
    normalised = records.usage_from_provider(usage)
    assert normalised == common_pb2.TokenUsage(
        input_tokens=1200,
        output_tokens=300,
        cache_read_input_tokens=1024,
        reasoning_output_tokens=256,
    )


def test_anthropic_usage_adds_cache_reads_and_writes_to_input_tokens() -> None:
    usage = {
        "input_tokens": 20,
        "output_tokens": 50,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 300,
    }
    normalised = records.usage_from_provider(usage)
    assert normalised is not None
    assert normalised.input_tokens == 1320
    assert normalised.cache_read_input_tokens == 1000
    assert normalised.cache_creation_input_tokens == 300
    assert normalised.output_tokens == 50


def test_responses_api_usage_is_already_inclusive() -> None:
    usage = {
        "input_tokens": 500,
        "output_tokens": 90,
        "input_tokens_details": {"cached_tokens": 128},
        "output_tokens_details": {"reasoning_tokens": 64},
    }
    normalised = records.usage_from_provider(usage)
    assert normalised is not None
    assert (normalised.input_tokens, normalised.cache_read_input_tokens) == (500, 128)
    assert normalised.reasoning_output_tokens == 64


def test_usage_objects_with_attributes_work_like_dicts() -> None:
    class Details:
        cached_tokens = 7

    class Usage:
        prompt_tokens = 10
        completion_tokens = 3
        prompt_tokens_details = Details()
        completion_tokens_details = None

    normalised = records.usage_from_provider(Usage())
    assert normalised is not None
    assert (normalised.input_tokens, normalised.cache_read_input_tokens) == (10, 7)


def test_missing_usage_is_none_so_the_caller_estimates() -> None:
    assert records.usage_from_provider(None) is None
    assert records.usage_from_provider({}) is None


def test_prompt_hash_is_sha256_of_canonical_messages_json_first_16_hex() -> None:
    messages = [{"role": "user", "content": "héllo"}, {"content": "x", "role": "system"}]
    canonical = '[{"content":"héllo","role":"user"},{"content":"x","role":"system"}]'
    expected = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    assert records.prompt_hash(messages) == expected
    reordered = [json.loads(json.dumps(m, sort_keys=True)) for m in messages]
    assert records.prompt_hash(reordered) == expected


def test_timeouts_are_timeout_status_other_errors_are_errors() -> None:
    class APITimeoutError(Exception):
        pass

    assert records.status_for_exception(APITimeoutError()) == common_pb2.CALL_STATUS_TIMEOUT
    assert records.status_for_exception(TimeoutError()) == common_pb2.CALL_STATUS_TIMEOUT
    assert records.status_for_exception(ValueError()) == common_pb2.CALL_STATUS_ERROR


def test_error_message_is_clipped_to_500_characters() -> None:
    record = records.new_record(model="m", provider="p", started_ns=1)
    records.set_error(record, RuntimeError("e" * 2000))
    assert len(record.error_message) == 500
    assert record.error_type == "RuntimeError"


def test_new_record_has_a_uuid_and_clipped_metadata() -> None:
    record = records.new_record(
        model="m",
        provider="openai",
        started_ns=1_700_000_000_123_456_789,
        metadata={"k": "v" * 1000},
    )
    assert uuid.UUID(record.request_id).version == 4
    assert record.timestamp.ToNanoseconds() == 1_700_000_000_123_456_789
    assert len(record.metadata["k"]) == records.MAX_METADATA_CHARS


def test_multimodal_content_text_is_its_text_parts() -> None:
    content = [
        {"type": "text", "text": "look at "},
        {"type": "image_url", "image_url": {"url": "data:..."}},
        {"type": "text", "text": "this"},
    ]
    assert records.content_text(content) == "look at this"


def test_importing_the_client_pulls_in_no_heavy_or_server_dependencies() -> None:
    code = (
        "import sys, llmops, llmops.monitor, llmops.shipper, llmops.spool, llmops.records, "
        "llmops.channels, llmops.testing.openai_server\n"
        "heavy = {'torch', 'sqlalchemy', 'numpy', 'openai', 'services'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_prompt_hash_vectors_shared_with_other_language_clients() -> None:
    """tests/data/prompt_hash_vectors.json: messages, the exact canonical JSON, the hash.

    Another language's client must produce ``canonical`` from ``messages`` byte for
    byte (sorted keys, no whitespace, UTF-8, JSON string escapes) and hash it the same.
    """
    path = Path(__file__).parents[1] / "data" / "prompt_hash_vectors.json"
    vectors = json.loads(path.read_text(encoding="utf-8"))
    assert len(vectors) >= 8
    for case in vectors:
        digest = hashlib.sha256(case["canonical"].encode("utf-8")).hexdigest()[:16]
        assert digest == case["prompt_hash"]
        assert records.prompt_hash(case["messages"]) == case["prompt_hash"]
