# Look-alike and fullwidth characters are the subject of these tests.
# ruff: noqa: RUF001
"""Every detector on 100 KB adversarial inputs: RE2 keeps matching linear.

These inputs make backtracking engines explode (nested repetition over long runs of
almost-matching characters). The test asserts results, not time; pytest-timeout
bounds it, and bench/guardrail_bench.py reports the time per detector.
"""

from __future__ import annotations

import pytest

from services.guardrail.engine import GuardrailEngine
from services.guardrail.policy import parse_policies

SIZE = 100_000
ADVERSARIAL = {
    "email_local_parts": "a." * (SIZE // 2),
    "email_without_tld": "a@" + "b-" * (SIZE // 2 - 1),
    "digits_and_spaces": "1 " * (SIZE // 2),
    "hex_and_colons": "a:" * (SIZE // 2),
    "dotted_octets": "1." * (SIZE // 2),
    "base64_run": "A" * SIZE,
    "words_almost_an_attack": "ignore all previous " * (SIZE // 20),
    "unclosed_private_key": "-----BEGIN PRIVATE KEY-----\n" + "A" * SIZE,
    "zero_width_soup": "a\u200b" * (SIZE // 2),
    "tag_characters": "\U000e0041" * SIZE,
    "jwt_prefixes": "eyJ" + "a" * SIZE,
    "markdown_image": "![" + "x" * SIZE,
    "long_quoted_assignments": "a='" + "x" * SIZE,
    "mixed_unicode": "іgnоrе " * (SIZE // 7),  # Cyrillic look-alikes
    # One 100 KB word of Cyrillic look-alikes with a Latin letter at the far end: a
    # per-letter scan for Latin neighbours in the word would be quadratic.
    "lookalike_word": "а" * (SIZE - 1) + "a",
    # Secret frames: keys with values too short or rejected, chains of keys, URL
    # userinfo without a password, Authorization schemes without a credential.
    "short_assignments": "pwd:1 " * (SIZE // 6),
    "rejected_assigned_values": "password: 1234567890 " * (SIZE // 21),
    "chained_keys": "token=" * (SIZE // 6),
    "unclosed_quoted_secret": 'secret="' + "x" * SIZE,
    "url_userinfo": "a://b:c@" * (SIZE // 8),
    "bearer_words": "Bearer " * (SIZE // 7),
    "token_shaped_runs": ("MTIzNDU2Nzg5YWJjZGVmZ2hp.Cl2FMQ." + "a" * 27 + " ") * (SIZE // 60),
    # National identifiers: digit groups with separators (one run, however long), and
    # floods of identifiers failing their check (NRIC, codice fiscale, personnummer).
    "separated_digit_groups": "123 456 789 " * (SIZE // 12),
    "dotted_digit_groups": "529.982.247-25 " * (SIZE // 15),
    "nric_shaped_tokens": "S1234567A " * (SIZE // 10),
    "fiscal_code_shaped_tokens": "RSSMRA85T10A562X " * (SIZE // 17),
    "dated_counters": "811218-9875 " * (SIZE // 12),
}


@pytest.fixture(scope="module")
def engine() -> GuardrailEngine:
    detectors = [
        {"detector": name, "action": "flag", "threshold": 0.0}
        for name in ("invisible_text", "injection", "secrets", "pii")
    ]
    document = {"policies": {"default": {"version": "t", "input": detectors}}}
    return GuardrailEngine(parse_policies(document, 2 * SIZE), pseudonym_secret=b"r" * 32)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_detectors_finish_on_100kb_adversarial_input(engine: GuardrailEngine, name: str) -> None:
    text = ADVERSARIAL[name]
    result = engine.check_input(text, tenant="t")
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text)
