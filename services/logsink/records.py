"""Validation of incoming call records and their conversion to and from SQL rows.

The SQL row (a plain dict keyed by column name) is LogSink's domain form of a record:
converting the protobuf straight into it, with no intermediate object, keeps the
per-record cost of ingestion low, which is what the throughput target is made of.

Rules (each rejection names the field, as the ack's ``reason`` shows):

* ``request_id``: required, at most 128 characters, no control characters. Any such
  string is accepted, not only UUIDs, so clients with their own id scheme work.
* ``timestamp``: required (not the zero epoch), valid nanos, at most
  ``max_future`` ahead of the server clock. Stored with microsecond precision.
* ``model``: required. Short strings (model, provider, template, ids, tag...) are at
  most 256 characters; ``prompt_hash`` at most 64.
* token counts: never negative; cached read + cache write <= input tokens; reasoning
  <= output tokens.
* ``latency_ms`` / ``time_to_first_token_ms``: finite and not negative.
* ``status``: one of SUCCESS, ERROR, TIMEOUT, FILTERED.
* ``error_message``: longer than 500 characters is truncated to 500, not rejected:
  the call happened and its record is worth more than the tail of a stack trace.
* ``metadata``: at most 64 entries, keys and values at most 256 characters.
* ``prompt_text`` / ``response_text``: at most ``max_text_bytes`` UTF-8 bytes each.
* ``billed_cost.currency_code``: three upper-case letters when billed_cost is set.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from llmops.v1 import common_pb2

MAX_ID_CHARS = 128
MAX_LABEL_CHARS = 256
MAX_HASH_CHARS = 64
MAX_ERROR_MESSAGE_CHARS = 500
MAX_METADATA_ENTRIES = 64
MAX_METADATA_CHARS = 256

VALID_STATUSES = frozenset(
    {
        common_pb2.CALL_STATUS_SUCCESS,
        common_pb2.CALL_STATUS_ERROR,
        common_pb2.CALL_STATUS_TIMEOUT,
        common_pb2.CALL_STATUS_FILTERED,
    }
)
STATUS_NAMES = {
    common_pb2.CALL_STATUS_SUCCESS: "success",
    common_pb2.CALL_STATUS_ERROR: "error",
    common_pb2.CALL_STATUS_TIMEOUT: "timeout",
    common_pb2.CALL_STATUS_FILTERED: "filtered",
}
_LABEL_FIELDS = (
    "model",
    "provider",
    "prompt_template",
    "error_type",
    "user_id",
    "experiment_id",
    "variant",
    "tag",
)
_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_output_tokens",
)
_MAX_NANOS = 999_999_999


@dataclass(frozen=True)
class Limits:
    """Server-side limits a record is checked against."""

    max_text_bytes: int
    max_future_us: int


def _has_control_chars(value: str) -> bool:
    return not value.isprintable()


def validate(record: common_pb2.CallRecord, limits: Limits, now_us: int) -> str | None:
    """Why ``record`` cannot be stored (``"<field>: <problem>"``), or None if it can."""
    request_id = record.request_id
    if not request_id:
        return "request_id: required"
    if len(request_id) > MAX_ID_CHARS:
        return f"request_id: longer than {MAX_ID_CHARS} characters"
    if _has_control_chars(request_id):
        return "request_id: contains control characters"
    ts = record.timestamp
    if ts.seconds == 0 and ts.nanos == 0:
        return "timestamp: required"
    if ts.seconds < 0 or not 0 <= ts.nanos <= _MAX_NANOS:
        return "timestamp: out of range"
    if ts.seconds * 1_000_000 + ts.nanos // 1000 > now_us + limits.max_future_us:
        return "timestamp: too far in the future"
    if not record.model:
        return "model: required"
    for name in _LABEL_FIELDS:
        if len(getattr(record, name)) > MAX_LABEL_CHARS:
            return f"{name}: longer than {MAX_LABEL_CHARS} characters"
    if len(record.prompt_hash) > MAX_HASH_CHARS:
        return f"prompt_hash: longer than {MAX_HASH_CHARS} characters"
    usage = record.usage
    for name in _TOKEN_FIELDS:
        if getattr(usage, name) < 0:
            return f"usage.{name}: negative"
    if usage.cache_read_input_tokens + usage.cache_creation_input_tokens > usage.input_tokens:
        return "usage.cache_read_input_tokens: cached tokens exceed input_tokens"
    if usage.reasoning_output_tokens > usage.output_tokens:
        return "usage.reasoning_output_tokens: exceeds output_tokens"
    if not (math.isfinite(record.latency_ms) and record.latency_ms >= 0):
        return "latency_ms: must be a finite, non-negative number"
    ttft = record.time_to_first_token_ms
    if not (math.isfinite(ttft) and ttft >= 0):
        return "time_to_first_token_ms: must be a finite, non-negative number"
    if record.status not in VALID_STATUSES:
        return "status: must be SUCCESS, ERROR, TIMEOUT or FILTERED"
    metadata = record.metadata
    if metadata:
        if len(metadata) > MAX_METADATA_ENTRIES:
            return f"metadata: more than {MAX_METADATA_ENTRIES} entries"
        for key, value in metadata.items():
            if len(key) > MAX_METADATA_CHARS or len(value) > MAX_METADATA_CHARS:
                return f"metadata: keys and values at most {MAX_METADATA_CHARS} characters"
    for name in ("prompt_text", "response_text"):
        if _utf8_length_exceeds(getattr(record, name), limits.max_text_bytes):
            return f"{name}: larger than {limits.max_text_bytes} bytes"
    if record.HasField("billed_cost"):
        code = record.billed_cost.currency_code
        if len(code) != 3 or not code.isascii() or not code.isupper():
            return "billed_cost.currency_code: must be a three-letter ISO 4217 code"
    return None


def _utf8_length_exceeds(text: str, limit: int) -> bool:
    # A character is 1 to 4 UTF-8 bytes: only the undecided middle needs encoding.
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode()) > limit


def to_row(record: common_pb2.CallRecord, tenant: str, ingest_us: int) -> dict[str, Any]:
    """The SQL row of a validated record (texts excluded: they go to the object store)."""
    usage = record.usage
    ts = record.timestamp
    billed = record.HasField("billed_cost")
    return {
        "tenant": tenant,
        "request_id": record.request_id,
        "ts_us": ts.seconds * 1_000_000 + ts.nanos // 1000,
        "ingest_us": ingest_us,
        "model": record.model,
        "provider": record.provider,
        "prompt_template": record.prompt_template,
        "prompt_hash": record.prompt_hash,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "reasoning_output_tokens": usage.reasoning_output_tokens,
        "usage_estimated": usage.estimated,
        "latency_ms": record.latency_ms,
        "time_to_first_token_ms": record.time_to_first_token_ms,
        "status": record.status,
        "error_type": record.error_type,
        "error_message": record.error_message[:MAX_ERROR_MESSAGE_CHARS],
        "user_id": record.user_id,
        "experiment_id": record.experiment_id,
        "variant": record.variant,
        "metadata_json": json.dumps(dict(record.metadata), sort_keys=True)
        if record.metadata
        else None,
        "batch": record.batch,
        "tag": record.tag,
        "billed_currency": record.billed_cost.currency_code if billed else None,
        "billed_micros": record.billed_cost.amount_micros if billed else None,
        "segment_id": None,
        "text_offset": None,
        "text_length": None,
    }


def from_row(row: Any) -> common_pb2.CallRecord:
    """Rebuild the stored record (without texts) from a SQL row mapping."""
    ts_us = row["ts_us"]
    record = common_pb2.CallRecord(
        request_id=row["request_id"],
        model=row["model"],
        provider=row["provider"],
        prompt_template=row["prompt_template"],
        prompt_hash=row["prompt_hash"],
        usage=common_pb2.TokenUsage(
            input_tokens=row["input_tokens"],
            output_tokens=row["output_tokens"],
            cache_read_input_tokens=row["cache_read_input_tokens"],
            cache_creation_input_tokens=row["cache_creation_input_tokens"],
            reasoning_output_tokens=row["reasoning_output_tokens"],
            estimated=bool(row["usage_estimated"]),
        ),
        latency_ms=row["latency_ms"],
        status=row["status"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        user_id=row["user_id"],
        experiment_id=row["experiment_id"],
        variant=row["variant"],
        metadata=json.loads(row["metadata_json"]) if row["metadata_json"] else {},
        time_to_first_token_ms=row["time_to_first_token_ms"],
        batch=bool(row["batch"]),
        tag=row["tag"],
    )
    record.timestamp.seconds, micros = divmod(ts_us, 1_000_000)
    record.timestamp.nanos = micros * 1000
    if row["billed_currency"] is not None:
        record.billed_cost.currency_code = row["billed_currency"]
        record.billed_cost.amount_micros = row["billed_micros"]
    return record
