"""Pure helpers that turn an LLM call into a :class:`CallRecord` (no I/O, no gRPC calls).

Provider objects are duck-typed: the ``openai`` SDK's pydantic models, plain dicts
(raw JSON) and Anthropic-style usage all work, and nothing here imports a provider SDK.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from llmops.v1 import common_pb2

MAX_ERROR_MESSAGE = 500
MAX_METADATA_CHARS = 256


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``: provider objects come as models or as dicts."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and value > 0 else 0


def usage_from_provider(usage: Any) -> common_pb2.TokenUsage | None:
    """Normalise a provider's reported usage to common.proto's TokenUsage meaning.

    Input tokens include cached ones and output tokens include reasoning ones (the
    OpenTelemetry ``gen_ai.usage.*`` meaning). Returns None when nothing was reported.
    """
    if usage is None:
        return None
    if field(usage, "prompt_tokens") is not None:
        # OpenAI chat completions: cached tokens are already inside prompt_tokens.
        prompt_details = field(usage, "prompt_tokens_details")
        completion_details = field(usage, "completion_tokens_details")
        return common_pb2.TokenUsage(
            input_tokens=_int(field(usage, "prompt_tokens")),
            output_tokens=_int(field(usage, "completion_tokens")),
            cache_read_input_tokens=_int(field(prompt_details, "cached_tokens")),
            cache_creation_input_tokens=_int(field(prompt_details, "cache_write_tokens")),
            reasoning_output_tokens=_int(field(completion_details, "reasoning_tokens")),
        )
    if field(usage, "input_tokens") is None:
        return None
    input_details = field(usage, "input_tokens_details")
    output_details = field(usage, "output_tokens_details")
    if input_details is not None or output_details is not None:
        # OpenAI Responses API: same inclusive meaning, different names.
        return common_pb2.TokenUsage(
            input_tokens=_int(field(usage, "input_tokens")),
            output_tokens=_int(field(usage, "output_tokens")),
            cache_read_input_tokens=_int(field(input_details, "cached_tokens")),
            reasoning_output_tokens=_int(field(output_details, "reasoning_tokens")),
        )
    # Anthropic: cache reads and writes are reported beside input_tokens, not inside.
    cache_read = _int(field(usage, "cache_read_input_tokens"))
    cache_write = _int(field(usage, "cache_creation_input_tokens"))
    return common_pb2.TokenUsage(
        input_tokens=_int(field(usage, "input_tokens")) + cache_read + cache_write,
        output_tokens=_int(field(usage, "output_tokens")),
        cache_read_input_tokens=cache_read,
        cache_creation_input_tokens=cache_write,
    )


def content_text(content: Any) -> str:
    """Text of a message content: a string, or the text parts of a multimodal list."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            str(field(part, "text") or "") for part in content if field(part, "type") == "text"
        )
    return ""


def prompt_hash(messages: Any) -> str:
    """First 16 hex of sha256 over the canonical JSON of the rendered messages.

    Canonical form (so other languages' clients produce the same hash): keys sorted,
    no whitespace (``","`` and ``":"`` separators), non-ASCII kept as UTF-8.
    """
    canonical = json.dumps(
        messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def prompt_text(messages: Sequence[Any]) -> str:
    """Messages as ``role: text`` lines, for the object store (never SQL)."""
    return "\n".join(f"{field(m, 'role')}: {content_text(field(m, 'content'))}" for m in messages)


def status_for_exception(exc: BaseException) -> int:
    """TIMEOUT for timeouts (openai.APITimeoutError, httpx/asyncio timeouts), else ERROR."""
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return common_pb2.CALL_STATUS_TIMEOUT
    return common_pb2.CALL_STATUS_ERROR


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_record(
    *,
    model: str,
    provider: str,
    started_ns: int,
    user_id: str = "",
    prompt_template: str = "",
    experiment_id: str = "",
    variant: str = "",
    tag: str = "",
    metadata: Mapping[str, str] | None = None,
) -> common_pb2.CallRecord:
    """A record with its identity and context; outcome fields are filled in later."""
    timestamp = Timestamp()
    timestamp.FromNanoseconds(started_ns)
    record = common_pb2.CallRecord(
        request_id=str(uuid.uuid4()),
        timestamp=timestamp,
        model=model,
        provider=provider,
        user_id=user_id,
        prompt_template=prompt_template,
        experiment_id=experiment_id,
        variant=variant,
        tag=tag,
    )
    for key, value in (metadata or {}).items():
        record.metadata[clip(str(key), MAX_METADATA_CHARS)] = clip(str(value), MAX_METADATA_CHARS)
    return record


def set_error(record: common_pb2.CallRecord, exc: BaseException) -> None:
    record.status = status_for_exception(exc)  # type: ignore[assignment]
    record.error_type = type(exc).__name__
    record.error_message = clip(str(exc), MAX_ERROR_MESSAGE)


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
