"""Validation of incoming call records and their conversion to and from SQL rows.

The SQL row (a plain dict keyed by column name) is LogSink's domain form of a record:
converting the protobuf straight into it, with no intermediate object, keeps the
per-record cost of ingestion low, which is what the throughput target is made of.

Rules (each rejection names the field, as the ack's ``reason`` shows):

* ``request_id``: required (not blank), at most 128 characters, no control characters. Any such
  string is accepted, not only UUIDs, so clients with their own id scheme work.
* ``timestamp``: required (not the zero epoch), valid nanos, at most
  ``max_future`` ahead of the server clock. Stored with microsecond precision.
* ``model``: required (not blank). Short strings (model, provider, template, ids, tag...) are at
  most 256 characters; ``prompt_hash`` at most 64.
* token counts: never negative, at most ``MAX_TOKENS``; cached read + cache write <=
  input tokens; reasoning <= output tokens.
* ``latency_ms`` / ``time_to_first_token_ms``: finite and not negative.
* ``status``: one of SUCCESS, ERROR, TIMEOUT, FILTERED.
* ``error_message``: longer than 500 characters is truncated to 500, not rejected:
  the call happened and its record is worth more than the tail of a stack trace. A
  NUL in it becomes U+FFFD (PostgreSQL text cannot hold NUL); a NUL in any other
  string stored in SQL rejects the record.
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
# Far beyond any real call, and small enough that a priced count stays within the
# BIGINT micro-dollar columns of CostService's ledger.
MAX_TOKENS = 10**12

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


def parse(
    record: common_pb2.CallRecord, tenant: str, ingest_us: int, limits: Limits
) -> dict[str, Any] | str:
    """The SQL row of ``record`` (texts excluded), or why it cannot be stored.

    Validation and conversion are one pass: every protobuf field is read once (each
    read of a string field builds a new Python string), which is most of the
    per-record cost of ingestion. Related fields are checked together (the longest
    label, any NUL in any of them); only when such a check fails is each field looked
    at on its own, to name it in the reason.
    """
    request_id = record.request_id
    # Blank counts as missing, as in CostService, which refuses a whole forwarded batch
    # over one blank id or model.
    if not request_id.strip():
        return "request_id: required"
    if len(request_id) > MAX_ID_CHARS:
        return f"request_id: longer than {MAX_ID_CHARS} characters"
    if not request_id.isprintable():
        return "request_id: contains control characters"
    ts = record.timestamp
    seconds, nanos = ts.seconds, ts.nanos
    if seconds == 0 and nanos == 0:
        return "timestamp: required"
    if seconds < 0 or not 0 <= nanos <= _MAX_NANOS:
        return "timestamp: out of range"
    ts_us = seconds * 1_000_000 + nanos // 1000
    if ts_us > ingest_us + limits.max_future_us:
        return "timestamp: too far in the future"
    labels = (
        record.model,
        record.provider,
        record.prompt_template,
        record.error_type,
        record.user_id,
        record.experiment_id,
        record.variant,
        record.tag,
    )
    if not labels[0].strip():
        return "model: required"
    if max(map(len, labels)) > MAX_LABEL_CHARS:
        too_long = (len(v) > MAX_LABEL_CHARS for v in labels)
        name = next(n for n, bad in zip(_LABEL_FIELDS, too_long, strict=True) if bad)
        return f"{name}: longer than {MAX_LABEL_CHARS} characters"
    # PostgreSQL text cannot hold NUL: one would fail the whole batch's transaction.
    if "\x00" in "".join(labels):
        name = next(n for n, v in zip(_LABEL_FIELDS, labels, strict=True) if "\x00" in v)
        return f"{name}: contains a NUL character"
    prompt_hash = record.prompt_hash
    if len(prompt_hash) > MAX_HASH_CHARS:
        return f"prompt_hash: longer than {MAX_HASH_CHARS} characters"
    if "\x00" in prompt_hash:
        return "prompt_hash: contains a NUL character"
    usage = record.usage
    tokens = (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
        usage.reasoning_output_tokens,
    )
    if min(tokens) < 0:
        name = next(n for n, v in zip(_TOKEN_FIELDS, tokens, strict=True) if v < 0)
        return f"usage.{name}: negative"
    if max(tokens) > MAX_TOKENS:
        name = next(n for n, v in zip(_TOKEN_FIELDS, tokens, strict=True) if v > MAX_TOKENS)
        return f"usage.{name}: more than {MAX_TOKENS}"
    input_tokens, output_tokens, cache_read, cache_creation, reasoning = tokens
    if cache_read + cache_creation > input_tokens:
        return "usage.cache_read_input_tokens: cached tokens exceed input_tokens"
    if reasoning > output_tokens:
        return "usage.reasoning_output_tokens: exceeds output_tokens"
    latency = record.latency_ms
    if not (math.isfinite(latency) and latency >= 0):
        return "latency_ms: must be a finite, non-negative number"
    ttft = record.time_to_first_token_ms
    if not (math.isfinite(ttft) and ttft >= 0):
        return "time_to_first_token_ms: must be a finite, non-negative number"
    status = record.status
    if status not in VALID_STATUSES:
        return "status: must be SUCCESS, ERROR, TIMEOUT or FILTERED"
    metadata_json = None
    if record.metadata:
        metadata = dict(record.metadata)
        if len(metadata) > MAX_METADATA_ENTRIES:
            return f"metadata: more than {MAX_METADATA_ENTRIES} entries"
        for key, value in metadata.items():
            if len(key) > MAX_METADATA_CHARS or len(value) > MAX_METADATA_CHARS:
                return f"metadata: keys and values at most {MAX_METADATA_CHARS} characters"
        metadata_json = json.dumps(metadata, sort_keys=True)
    if _utf8_length_exceeds(record.prompt_text, limits.max_text_bytes):
        return f"prompt_text: larger than {limits.max_text_bytes} bytes"
    if _utf8_length_exceeds(record.response_text, limits.max_text_bytes):
        return f"response_text: larger than {limits.max_text_bytes} bytes"
    billed_currency = billed_micros = None
    if record.HasField("billed_cost"):
        billed_currency = record.billed_cost.currency_code
        if (
            len(billed_currency) != 3
            or not billed_currency.isascii()
            or not billed_currency.isupper()
        ):
            return "billed_cost.currency_code: must be a three-letter ISO 4217 code"
        billed_micros = record.billed_cost.amount_micros
    model, provider, prompt_template, error_type, user_id, experiment_id, variant, tag = labels
    return {
        "tenant": tenant,
        "request_id": request_id,
        "ts_us": ts_us,
        "ingest_us": ingest_us,
        "model": model,
        "provider": provider,
        "prompt_template": prompt_template,
        "error_type": error_type,
        "user_id": user_id,
        "experiment_id": experiment_id,
        "variant": variant,
        "tag": tag,
        "prompt_hash": prompt_hash,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_creation,
        "reasoning_output_tokens": reasoning,
        "usage_estimated": usage.estimated,
        "latency_ms": latency,
        "time_to_first_token_ms": ttft,
        "status": status,
        "error_message": record.error_message[:MAX_ERROR_MESSAGE_CHARS].replace("\x00", "\ufffd"),
        "metadata_json": metadata_json,
        "batch": record.batch,
        "billed_currency": billed_currency,
        "billed_micros": billed_micros,
        "segment_id": None,
        "text_offset": None,
        "text_length": None,
        "text_index": None,
    }


def _utf8_length_exceeds(text: str, limit: int) -> bool:
    # A character is 1 to 4 UTF-8 bytes: only the undecided middle needs encoding.
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode()) > limit


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
