"""Settings of GuardrailService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.settings import CommonSettings, grpc_port, metrics_port, setting


@dataclass(frozen=True)
class GuardrailSettings(CommonSettings):
    """GuardrailService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("guardrail", 50051)
    metrics_port: int = metrics_port("guardrail", 9101)
    guardrail_policy_file: Path | None = setting(
        None, "Guardrail policy file (YAML/JSON); unset uses the shipped default policies"
    )
    guardrail_max_text_length: int = setting(
        100_000, "Largest text a guardrail check accepts, in code points (policies may lower it)"
    )
    guardrail_semantic_device: str = setting(
        "cpu", "Device of the embedding model for the semantic injection tier: cpu or cuda[:n]"
    )
    guardrail_inline_max_chars: int = setting(
        4096,
        "Pattern-only checks of texts up to this length run on the event loop (faster than a "
        "thread hop); longer texts and semantic checks run in a worker thread",
    )
    pseudonym_secret: str = setting(
        "",
        "Secret keying per-tenant pseudonyms (hex or text, at least 16 bytes); unset: created "
        "once in ./data/pseudonym.key and shared with LogSink",
    )
