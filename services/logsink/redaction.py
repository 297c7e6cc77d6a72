"""Masking on ingest: the Guardrail engine used as a library.

LogSink applies a Guardrail policy's PII and secrets redaction (the engine's
``redact``, which never blocks) with the same pseudonym secret as GuardrailService,
so a pseudonym in a stored record is the token the application saw from
GuardrailService. The engine is imported only in text mode ``redacted``.

Only the chosen policy is loaded: the engine embeds its injection corpus with the
sentence-transformers model as soon as any loaded policy enables the semantic tier,
which redaction never uses and which would cost LogSink hundreds of MB.
"""

from __future__ import annotations

from services.common.settings import SettingsError
from services.guardrail.pseudonym import load_or_create_secret
from services.logsink.engine import Redactor
from services.logsink.settings import LogSinkSettings


def build_redactor(settings: LogSinkSettings) -> Redactor:
    """``redact(text, tenant)`` with the configured policy file and policy."""
    from services.guardrail.engine import DEFAULT_MAX_TEXT_LENGTH, GuardrailEngine
    from services.guardrail.policy import PolicySet, load_policies

    loaded = load_policies(settings.guardrail_policy_file, DEFAULT_MAX_TEXT_LENGTH)
    name = settings.redaction_policy or loaded.default
    if name not in loaded.policies:
        raise SettingsError(
            f"Invalid value for environment variable LLMOPS_LOGSINK_REDACTION_POLICY: "
            f"no policy {name!r} in the policy file"
        )
    engine = GuardrailEngine(
        PolicySet({name: loaded.policies[name]}, name),
        pseudonym_secret=load_or_create_secret(settings.pseudonym_secret),
    )

    def redact(text: str, tenant: str) -> str:
        return engine.redact(text, tenant=tenant, policy=name)

    return redact
