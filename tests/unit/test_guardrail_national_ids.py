"""National identifiers in the pii detector: checks, context words, layouts, redaction.

Every identifier below is fictitious: published specimen numbers, or numbers computed
here with the issuer's algorithm (a body chosen by hand and its check digit), never a
real person's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from services.guardrail import national_ids as ids
from services.guardrail.engine import GuardrailEngine
from services.guardrail.normalize import normalize
from services.guardrail.pii import ENTITY_TYPES, PII, PRIORITY, EntityDetector
from services.guardrail.policy import parse_policies

DATA = Path(__file__).parents[1] / "data"
EXISTING_TYPES = {"EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IPV4", "IPV6", "US_SSN"}

# (type, context word, identifier as printed): found with the context word.
WITH_CONTEXT = [
    ("UK_NHS", "NHS number", "943 476 5919"),  # the NHS Data Dictionary's example
    ("UK_NHS", "NHS number", "4010232137"),
    ("UK_NINO", "National Insurance number", "AB 12 34 56 C"),
    ("UK_NINO", "NI number", "AB123456C"),
    ("CA_SIN", "SIN", "273 645 184"),
    ("CA_SIN", "social insurance number", "273645184"),
    ("AU_TFN", "TFN", "876 543 210"),
    ("AU_TFN", "tax file number", "123456782"),  # the ATO's worked example
    ("US_ITIN", "ITIN", "912-70-1234"),
    ("US_ITIN", "ITIN", "912701234"),
    ("IN_AADHAAR", "Aadhaar", "2345 6789 0124"),
    ("IN_AADHAAR", "Aadhaar no.", "234567890124"),
    ("IN_PAN", "PAN", "ABCPE1234F"),
    ("IN_PAN", "PAN", "AAACB1234C"),  # a company: reported only with context
    ("ES_NIF", "DNI", "87654321X"),
    ("ES_NIF", "NIF", "87.654.321-X"),
    ("ES_NIE", "NIE", "Y7654321G"),
    ("ES_NIE", "NIE", "X-1234567-L"),
    ("IT_FISCAL_CODE", "codice fiscale", "RSSMRA85T10A562S"),
    ("IT_FISCAL_CODE", "codice fiscale", "BNCLRA90A41H501F"),
    ("PL_PESEL", "PESEL", "44051401359"),
    ("PL_PESEL", "numer PESEL:", "90010101239"),
    ("NL_BSN", "BSN", "111222333"),
    ("NL_BSN", "burgerservicenummer", "1112.22.333"),
    ("SE_PERSONNUMMER", "personnummer", "811218-9876"),  # Skatteverket's example
    ("SE_PERSONNUMMER", "personnummer", "9001011239"),
    ("SE_PERSONNUMMER", "personnummer", "19811218-9876"),
    ("FI_PERSONAL_IDENTITY_CODE", "henkilötunnus", "131052-308T"),  # DVV's example
    ("FI_PERSONAL_IDENTITY_CODE", "hetu", "010203A456R"),
    ("FR_NIR", "numéro de sécurité sociale", "1 85 05 75 123 456 73"),
    ("FR_NIR", "NIR", "185057512345673"),
    ("FR_NIR", "INSEE", "2 85 04 2A 123 456 64"),
    ("DE_TAX_ID", "Steuer-ID", "65929970489"),
    ("DE_TAX_ID", "Steueridentifikationsnummer", "65 929 970 489"),
    ("BR_CPF", "CPF", "123.456.789-09"),
    ("BR_CPF", "CPF", "12345678909"),
    ("SG_NRIC_FIN", "NRIC", "S1234567D"),
    ("SG_NRIC_FIN", "FIN", "M1234567K"),
    ("SG_NRIC_FIN", "FIN", "F7654321Q"),
    ("AU_MEDICARE", "Medicare", "2123 45670 1"),
    ("AU_MEDICARE", "Medicare card", "4123456721"),
]

# Found without a context word: shapes distinctive enough alone, at these scores.
ALONE = [
    ("UK_NINO", "AB 12 34 56 C", 0.85),
    ("US_ITIN", "912-70-1234", 0.8),
    ("IN_AADHAAR", "2345 6789 0124", 0.7),
    ("IN_PAN", "ABCPE1234F", 0.75),
    ("ES_NIF", "87654321X", 0.85),
    ("ES_NIE", "Y7654321G", 0.85),
    ("IT_FISCAL_CODE", "RSSMRA85T10A562S", 0.95),
    ("SE_PERSONNUMMER", "811218-9876", 0.8),
    ("FI_PERSONAL_IDENTITY_CODE", "131052-308T", 0.9),
    ("FR_NIR", "1 85 05 75 123 456 73", 0.85),
    ("BR_CPF", "123.456.789-09", 0.9),
    ("SG_NRIC_FIN", "S1234567D", 0.9),
    ("AU_MEDICARE", "2123 45670 1", 0.7),
]

# Valid, but not reported without a context word: plain digits, and layouts that
# ordinary numbers share (3-3-4 phone numbers, 3-3-3 amounts, dates and counters).
NEED_CONTEXT = [
    ("UK_NHS", "943 476 5919"),
    ("UK_NHS", "4010232137"),
    ("CA_SIN", "273 645 184"),
    ("AU_TFN", "876 543 210"),
    ("US_ITIN", "912701234"),
    ("IN_AADHAAR", "234567890124"),
    ("IN_PAN", "AAACB1234C"),
    ("PL_PESEL", "44051401359"),
    ("NL_BSN", "111222333"),
    ("SE_PERSONNUMMER", "9001011239"),
    ("SE_PERSONNUMMER", "19811218-9876"),
    ("FR_NIR", "185057512345673"),
    ("DE_TAX_ID", "65929970489"),
    ("DE_TAX_ID", "65 929 970 489"),
    ("BR_CPF", "12345678909"),
    ("AU_MEDICARE", "4123456721"),
]


@pytest.fixture(scope="module")
def pii() -> EntityDetector:
    return EntityDetector(PII)


def _found(detector: EntityDetector, text: str) -> list[tuple[str, str, float]]:
    return [(c.type, text[c.start : c.end], c.score) for c in detector.detect(normalize(text))]


def _one_digit_changed(kind: str, value: str) -> str:
    """The last digit changed (the check digit, or one the check letter covers); for
    Medicare the first, as its last digits are issue and reference numbers."""
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    index = positions[0] if kind == "AU_MEDICARE" else positions[-1]
    return value[:index] + str((int(value[index]) + 1) % 10) + value[index + 1 :]


@pytest.mark.parametrize(("kind", "context", "value"), WITH_CONTEXT)
def test_valid_identifier_next_to_its_context_word_is_found_whole(
    pii: EntityDetector, kind: str, context: str, value: str
) -> None:
    text = f"Here is my {context} {value}, thanks."
    assert (kind, value, 1.0) in _found(pii, text)


# Identifiers without a check digit are held to their structure rules instead (below).
WITH_CHECK_DIGIT = [
    case for case in WITH_CONTEXT if case[0] not in ("US_ITIN", "IN_PAN", "UK_NINO")
]


@pytest.mark.parametrize(("kind", "context", "value"), WITH_CHECK_DIGIT)
def test_identifier_with_one_digit_changed_is_not_reported(
    pii: EntityDetector, kind: str, context: str, value: str
) -> None:
    text = f"Here is my {context} {_one_digit_changed(kind, value)}, thanks."
    assert kind not in [t for t, _, _ in _found(pii, text)]


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("US_ITIN", "ITIN 912-93-1234"),  # group 93 is never issued
        ("US_ITIN", "ITIN 812-70-1234"),  # ITINs start with 9
        ("IN_PAN", "PAN ABCDE1234F"),  # D is no holder status
        ("UK_NINO", "NI number QQ 12 34 56 C"),  # Q never starts a NINO
        ("UK_NINO", "NI number GB 12 34 56 C"),  # never allocated
        ("UK_NINO", "NI number AB 12 34 56 E"),  # suffixes are A-D
        ("PL_PESEL", "PESEL 44053201359"),  # 32nd of a month
        ("FI_PERSONAL_IDENTITY_CODE", "310252-308T"),  # 31 February
        ("SE_PERSONNUMMER", "personnummer 811318-9876"),  # month 13
        ("CA_SIN", "SIN 046 454 286"),  # 0 is not issued as first digit
        ("BR_CPF", "CPF 111.111.111-11"),  # passes the arithmetic, never issued
        ("DE_TAX_ID", "Steuer-ID 12345678903"),  # no digit repeated
        ("AU_MEDICARE", "Medicare 7123 45670 1"),  # first digit 2-6
    ],
)
def test_identifier_breaking_its_structure_rules_is_not_reported(
    pii: EntityDetector, kind: str, text: str
) -> None:
    assert kind not in [t for t, _, _ in _found(pii, text)]


@pytest.mark.parametrize(("kind", "value", "score"), ALONE)
def test_distinctive_layout_is_found_without_context(
    pii: EntityDetector, kind: str, value: str, score: float
) -> None:
    assert (kind, value, score) in _found(pii, f"The number is {value} as requested.")


@pytest.mark.parametrize(("kind", "value"), NEED_CONTEXT)
def test_plain_or_common_layout_needs_a_context_word(
    pii: EntityDetector, kind: str, value: str
) -> None:
    assert kind not in [t for t, _, _ in _found(pii, f"The number is {value} as requested.")]


def test_context_word_must_come_before_plain_digits(pii: EntityDetector) -> None:
    # As Presidio by default: a word after a plain number does not count (it would make
    # every plain run of digits a candidate).
    assert _found(pii, "PESEL: 44051401359") == [("PL_PESEL", "44051401359", 1.0)]
    assert _found(pii, "44051401359 is the PESEL") == []
    # Printed layouts take a context word on either side.
    assert ("UK_NHS", "943 476 5919", 1.0) in _found(pii, "943 476 5919 (NHS)")


def test_context_word_of_another_identifier_does_not_count(pii: EntityDetector) -> None:
    # 192837466 passes both the SIN and the TFN checks: the word decides which it is.
    assert _found(pii, "SIN 192837466") == [("CA_SIN", "192837466", 1.0)]
    assert _found(pii, "TFN 192837466") == [("AU_TFN", "192837466", 1.0)]
    assert _found(pii, "PESEL 4010232137") == []


@pytest.mark.parametrize(
    "text",
    [
        "NHS number 943 476 5919 1",  # part of a longer run of digits
        "NHS number 1943 476 5919",
        "codice fiscale XRSSMRA85T10A562S",
        "NRIC S1234567D7",
        "PESEL 4405140135912",
    ],
)
def test_identifier_glued_to_more_characters_is_not_reported(
    pii: EntityDetector, text: str
) -> None:
    assert not [t for t, _, _ in _found(pii, text) if t not in EXISTING_TYPES]


@pytest.mark.parametrize(
    "text",
    [
        "Order 123456789 shipped on 2024-05-17 and invoice 4010232138 is due.",
        "Call 415 555 2671 or 020 7946 0958 before 5pm.",
        "The population grew from 67 081 234 to 68 265 209 over the decade.",
        "Tracking number 1Z999AA10123456784, ISBN 978-3-16-148410-0.",
        "Build 20240517-1234 passed; commit 9f1c2e7.",
        "Totals: 1.234.567.890 units, 12.345.678 pallets.",
        "The SKU ABCDE1234F is out of stock; the ratio was 3.14159265.",
        "Please cc the team on ticket 123-45-6789-00.",
        "He scored 12 34 56 points as 12 34 56 a game.",
    ],
)
def test_ordinary_numbers_are_not_national_identifiers(pii: EntityDetector, text: str) -> None:
    assert not [t for t, _, _ in _found(pii, text) if t not in EXISTING_TYPES]


def test_development_benign_texts_have_no_national_identifier(pii: EntityDetector) -> None:
    # Development halves only (odd lines of benign_prompts, benign rows of the eval set).
    lines = (DATA / "benign_prompts.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[0::2]]
    rows = [json.loads(line) for line in (DATA / "injection_eval.jsonl").open(encoding="utf-8")]
    texts += [r["text"] for r in rows if r["label"] == "benign"]
    found = [(t, v) for text in texts for t, v, s in _found(pii, text) if s >= 0.5]
    assert [f for f in found if f[0] not in EXISTING_TYPES] == []


@pytest.mark.parametrize(
    ("check", "valid", "invalid"),
    [
        (ids.nhs_valid, "9434765919", "9434765918"),
        (ids.verhoeff_valid, "2363", "2364"),  # Verhoeff's own example: 236 -> 3
        (ids.aadhaar_valid, "234567890124", "134567890124"),
        (ids.it_fiscal_code_valid, "RSSMRA85T10A562S", "RSSMRA85T10A562T"),
        (ids.it_fiscal_code_valid, "RSSMRA85T10A56NH", "RSSMRA85T10A562H"),  # omocodia
        (ids.pesel_valid, "02070803628", "02070803627"),
        (ids.nl_bsn_valid, "111222333", "111222334"),
        (ids.se_personnummer_valid, "8112189876", "8112189875"),
        (ids.se_personnummer_valid, "198112189876", "298112189876"),
        (ids.fi_hetu_valid, "131052-308T", "131052-308U"),
        (ids.fi_hetu_valid, "131052Y308T", "131052G308T"),  # the 2023 century signs
        (ids.fr_nir_valid, "255081416802538", "255081416802539"),
        (ids.de_tax_id_valid, "86095742719", "86095742718"),
        (ids.br_cpf_valid, "52998224725", "52998224726"),
        (ids.sg_nric_valid, "S1234567D", "S1234567A"),
        (ids.au_tfn_valid, "123456782", "123456783"),
        (ids.au_medicare_valid, "2123456701", "2123456801"),
        (ids.es_dni_valid, "12345678Z", "12345678A"),
        (ids.es_nie_valid, "X1234567L", "X1234567M"),
        (ids.ca_sin_valid, "273645184", "273645185"),
        (ids.luhn_valid, "4111111111111111", "4111111111111112"),
    ],
)
def test_checks_follow_published_examples(
    check: Callable[[str], bool], valid: str, invalid: str
) -> None:
    assert check(valid)
    assert not check(invalid)


def test_every_identifier_is_a_pii_type_with_a_priority() -> None:
    kinds = {kind for kind, _, _ in WITH_CONTEXT}
    assert kinds <= ENTITY_TYPES[PII]
    assert ENTITY_TYPES[PII] >= EXISTING_TYPES
    assert "DIGIT_ID" not in ENTITY_TYPES[PII]
    assert all(PRIORITY[k] > PRIORITY["US_SSN"] for k in kinds)


def test_nir_wins_over_a_card_number_it_looks_like() -> None:
    # 2 55 08 ... is Luhn-valid and in Mastercard's range; its mod-97 key says NIR.
    engine = _engine([{"detector": "pii", "action": "redact"}])
    result = engine.check_input("NIR 2 55 08 14 168 025 38", tenant="t")
    assert result.safe_text == "NIR [FR_NIR_REDACTED]"


def _engine(detectors: list[dict[str, object]]) -> GuardrailEngine:
    document = {"policies": {"default": {"version": "t", "input": detectors}}}
    return GuardrailEngine(parse_policies(document, 10_000), pseudonym_secret=b"s" * 32)


def test_policies_name_identifier_types_and_redact_them_whole() -> None:
    engine = _engine(
        [{"detector": "pii", "action": "redact", "entity_types": ["UK_NHS", "IT_FISCAL_CODE"]}]
    )
    result = engine.check_input(
        "NHS number 943 476 5919, CF RSSMRA85T10A562S, DNI 87654321X", tenant="t"
    )
    assert result.safe_text == (
        "NHS number [UK_NHS_REDACTED], CF [IT_FISCAL_CODE_REDACTED], DNI 87654321X"
    )


def test_pseudonym_is_the_same_however_the_identifier_is_written() -> None:
    engine = _engine([{"detector": "pii", "action": "redact", "redaction_style": "pseudonym"}])
    spaced = engine.check_input("NHS number 943 476 5919", tenant="t").safe_text
    plain = engine.check_input("NHS number 9434765919", tenant="t").safe_text
    assert spaced == plain
    assert spaced.startswith("NHS number <UK_NHS_")


def test_mask_hides_every_character_of_an_identifier() -> None:
    engine = _engine([{"detector": "pii", "action": "redact", "redaction_style": "mask"}])
    result = engine.check_input("codice fiscale RSSMRA85T10A562S", tenant="t")
    assert result.safe_text == "codice fiscale " + "*" * 16
