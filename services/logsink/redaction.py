"""Masking on ingest: the Guardrail engine used as a library.

LogSink applies the same redaction policy GuardrailService applies, with the same
pseudonym secret, so a pseudonym in a stored record is the token the application
saw from GuardrailService. The engine is imported only when text mode is
``redacted``, so the other modes start without loading it.
"""

from __future__ import annotations

from services.guardrail.pseudonym import load_or_create_secret
from services.logsink.engine import Redactor
from services.logsink.settings import LogSinkSettings


def build_redactor(settings: LogSinkSettings) -> Redactor:
    """``redact(text, tenant)`` with the configured policy file and policy."""
    from services.guardrail.engine import GuardrailEngine

    secret = load_or_create_secret(settings.pseudonym_secret)
    engine = GuardrailEngine.from_policy_file(
        settings.redaction_policy_file, pseudonym_secret=secret
    )
    policy = settings.redaction_policy

    def redact(text: str, tenant: str) -> str:
        return engine.redact(text, tenant=tenant, policy=policy).text

    return redact
