"""The shared pseudonym secret and keyed tokens; library use without the model."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.guardrail.engine import GuardrailEngine
from services.guardrail.pseudonym import Pseudonymizer, load_or_create_secret, parse_secret


def test_secret_is_created_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "pseudonym.key"
    first = load_or_create_secret("", path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret("", path) == first


def test_configured_secret_wins_and_accepts_hex_or_text(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    assert load_or_create_secret("00" * 16, path) == bytes(16)
    assert load_or_create_secret("a long enough passphrase", path) == b"a long enough passphrase"
    assert not path.exists()
    with pytest.raises(ValueError, match="16 bytes"):
        parse_secret("short")


def test_tokens_depend_on_tenant_type_value_and_secret() -> None:
    one = Pseudonymizer(b"k" * 32)
    other = Pseudonymizer(b"j" * 32)
    token = one.token("acme", "EMAIL", "a@b.com")
    assert token == one.token("acme", "EMAIL", "a@b.com")
    assert token.startswith("<EMAIL_")
    assert len(token) == len("<EMAIL_>") + 8
    assert token != one.token("globex", "EMAIL", "a@b.com")
    assert token != other.token("acme", "EMAIL", "a@b.com")


def test_redaction_with_the_shipped_policies_never_loads_the_model() -> None:
    def no_model() -> None:
        raise AssertionError("the embedding model must not load for redaction")

    engine = GuardrailEngine.from_policy_file(
        pseudonym_secret=b"k" * 32,
        encoder_loader=no_model,  # type: ignore[arg-type]
    )
    assert engine.redact("mail a@b.com", tenant="acme") == "mail [EMAIL_REDACTED]"
    assert engine.check_input("mail a@b.com", tenant="acme").safe_text == "mail [EMAIL_REDACTED]"
