"""Settings of LogSinkService, read from ``LLMOPS_*`` environment variables."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import InvalidArgument
from services.common.settings import (
    CommonSettings,
    SettingsError,
    env_name,
    grpc_port,
    metrics_port,
    setting,
)
from services.common.tenancy import validate_tenant


class TextMode(enum.Enum):
    """What LogSink keeps of the prompt and response texts."""

    FULL = "full"
    REDACTED = "redacted"
    NONE = "none"


@dataclass(frozen=True)
class LogSinkSettings(CommonSettings):
    """LogSinkService settings; shared ones come from :class:`CommonSettings`."""

    port: int = grpc_port("logsink", 50055)
    metrics_port: int = metrics_port("logsink", 9105)
    text_mode: TextMode = setting(
        TextMode.REDACTED,
        "Texts kept in the object store: full, redacted (the Guardrail redaction policy "
        "applied before storing) or none",
        env="LLMOPS_LOGSINK_TEXT_MODE",
    )
    guardrail_policy_file: Path | None = setting(
        None,
        "Guardrail policy file (YAML/JSON); unset uses the shipped default policies. The "
        "same variable GuardrailService reads, so LogSink redacts with the same policies",
        env="LLMOPS_GUARDRAIL_POLICY_FILE",
    )
    redaction_policy: str = setting(
        "",
        "Name of the Guardrail policy whose PII and secrets redaction LogSink applies before "
        "storing texts; empty for the file's default policy",
        env="LLMOPS_LOGSINK_REDACTION_POLICY",
    )
    pseudonym_secret: str = setting(
        "",
        "Secret keying redaction pseudonyms (hex or text, at least 16 bytes); the same "
        "variable GuardrailService reads, so both produce the same tokens; empty uses the "
        "key file shared with GuardrailService (created on first use)",
        env="LLMOPS_PSEUDONYM_SECRET",
    )
    max_text_bytes: int = setting(
        1024 * 1024,
        "Largest prompt_text or response_text accepted, in UTF-8 bytes; larger records "
        "are rejected",
        env="LLMOPS_LOGSINK_MAX_TEXT_BYTES",
    )
    max_future_seconds: float = setting(
        86400.0,
        "How far in the future a record's timestamp may lie (clock skew) before it is rejected",
        env="LLMOPS_LOGSINK_MAX_FUTURE_SECONDS",
    )
    cost_address: str = setting(
        "",
        "CostService host:port records are forwarded to; empty disables it",
        env="LLMOPS_LOGSINK_COST_ADDRESS",
    )
    experiment_address: str = setting(
        "",
        "ExperimentService host:port that records with an experiment_id are forwarded to; "
        "empty disables it",
        env="LLMOPS_LOGSINK_EXPERIMENT_ADDRESS",
    )
    drift_address: str = setting(
        "",
        "DriftService host:port sampled response texts are forwarded to; empty disables it",
        env="LLMOPS_LOGSINK_DRIFT_ADDRESS",
    )
    drift_sample_rate: float = setting(
        0.1,
        "Fraction of stored responses forwarded to DriftService (chosen by request_id, so a "
        "replay samples the same records)",
        env="LLMOPS_LOGSINK_DRIFT_SAMPLE_RATE",
    )
    forward_interval_seconds: float = setting(
        1.0,
        "How often the forwarder polls the outbox when it is not woken by new records",
        env="LLMOPS_LOGSINK_FORWARD_INTERVAL_SECONDS",
    )
    forward_timeout_seconds: float = setting(
        10.0, "Deadline of one forwarding call", env="LLMOPS_LOGSINK_FORWARD_TIMEOUT_SECONDS"
    )
    forward_max_backoff_seconds: float = setting(
        300.0,
        "Longest wait between two delivery attempts of a failing outbox entry",
        env="LLMOPS_LOGSINK_FORWARD_MAX_BACKOFF_SECONDS",
    )
    retention_days: int = setting(
        0,
        "Records older than this many days are deleted with their texts; 0 keeps them forever",
        env="LLMOPS_LOGSINK_RETENTION_DAYS",
    )
    retention_days_by_tenant: str = setting(
        "",
        "Per-tenant retention overriding LLMOPS_LOGSINK_RETENTION_DAYS, as "
        "tenant=days pairs separated by commas, e.g. acme=30,globex=0 (0 keeps forever)",
        env="LLMOPS_LOGSINK_RETENTION_DAYS_BY_TENANT",
    )
    retention_interval_seconds: float = setting(
        3600.0, "How often the retention job runs", env="LLMOPS_LOGSINK_RETENTION_INTERVAL_SECONDS"
    )
    metrics_max_label_values: int = setting(
        100,
        "Distinct model (and, separately, prompt_template and error_type) label values the "
        'LLM metrics keep per process; further values are counted under "other"',
        env="LLMOPS_LOGSINK_METRICS_MAX_LABEL_VALUES",
    )

    @property
    def retention_overrides(self) -> dict[str, int]:
        """``LLMOPS_LOGSINK_RETENTION_DAYS_BY_TENANT`` as {tenant: days}."""
        overrides: dict[str, int] = {}
        for pair in filter(None, (p.strip() for p in self.retention_days_by_tenant.split(","))):
            tenant, _, days = pair.partition("=")
            try:
                overrides[validate_tenant(tenant.strip())] = int(days)
            except (InvalidArgument, ValueError):
                raise SettingsError(
                    "Invalid value for environment variable LLMOPS_LOGSINK_RETENTION_DAYS_BY_"
                    f"TENANT: {pair!r} is not tenant=days"
                ) from None
            if overrides[tenant.strip()] < 0:
                raise SettingsError(
                    "Invalid value for environment variable LLMOPS_LOGSINK_RETENTION_DAYS_BY_"
                    f"TENANT: {pair!r} has negative days"
                )
        return overrides

    def __post_init__(self) -> None:
        self.retention_overrides  # noqa: B018 - parsed at start-up so a typo fails fast
        ranges = {
            "drift_sample_rate": (0.0, 1.0),
            "max_text_bytes": (1, None),
            "max_future_seconds": (0.0, None),
            "retention_days": (0, None),
            "retention_interval_seconds": (0.001, None),
            "forward_interval_seconds": (0.001, None),
            "forward_timeout_seconds": (0.001, None),
            "forward_max_backoff_seconds": (0.001, None),
            "metrics_max_label_values": (1, None),
        }
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                field = next(f for f in dataclasses.fields(self) if f.name == name)
                raise SettingsError(
                    f"Invalid value for environment variable {env_name(field)}: "
                    f"{value} is not {bound}"
                )
