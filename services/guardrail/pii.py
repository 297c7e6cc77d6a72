"""PII and secret detectors: RE2 candidates, validated in Python.

Patterns find candidates in linear time; checks that regular expressions cannot
express (Luhn, IBAN mod-97, IP address ranges, SSN reserved ranges, digit counts,
"not glued to more digits") run on the few candidates found. RE2 has no lookaround,
so digit boundaries are checked here too: a 16-digit card number must never yield a
phone number from its middle.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import re2

from services.guardrail.model import Candidate
from services.guardrail.normalize import Normalized
from services.guardrail.patterns import PatternSet, options

PII = "pii"
SECRETS = "secrets"

# Words that make a Luhn-valid digit run much more likely to be a payment card.
_CARD_CONTEXT = re2.compile(
    r"(?i)\b(card|credit|debit|visa|master ?card|amex|american express|discover|"
    r"cc|ccn|pan|cvv|cvc|expir\w*|exp|payment|pay|billing|charge)\b",
    options(),
)
_SSN_CONTEXT = re2.compile(r"(?i)\b(ssn|social security|social sec|tax id|itin)\b", options())
_CONTEXT_WINDOW = 48

# IBAN lengths by country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
    "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


@dataclass(frozen=True)
class Entity:
    """One entity type: its RE2 pattern and a check that scores a candidate (None = reject)."""

    detector: str
    type: str
    pattern: str
    check: Callable[[str, int, int], float | None]
    priority: int
    """Wins overlaps against lower priorities (secrets > cards > ... > phone)."""
    value: Callable[[str], str] = str.strip


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _glued_to_digits(text: str, start: int, end: int) -> bool:
    """Whether the span continues a longer digit run ("4111 1111 ..." around it)."""
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    if (before[-1:].isalnum()) or (after[:1].isalnum()):
        return True
    if len(before) == 2 and before[1] in " -." and before[0].isdigit():
        return True
    return len(after) == 2 and after[0] in " -." and after[1].isdigit()


def _near(pattern: re2._Regexp, text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _CONTEXT_WINDOW) : end + _CONTEXT_WINDOW]
    return pattern.search(window) is not None


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum every payment card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_brand_prefix(digits: str) -> bool:
    """Issuer prefixes of the major networks (Visa, Mastercard, Amex, Discover, JCB, ...)."""
    two, four = int(digits[:2]), int(digits[:4])
    return (
        digits[0] == "4"
        or 51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 36, 38, 30, 35, 62, 65)
        or digits.startswith("6011")
        or 644 <= int(digits[:3]) <= 649
    )


def _check_card(text: str, start: int, end: int) -> float | None:
    digits = _digits(text[start:end])
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits) or _glued_to_digits(text, start, end):
        return None
    if len(set(digits)) == 1:
        return None
    context = _near(_CARD_CONTEXT, text, start, end)
    if _card_brand_prefix(digits):
        return 1.0 if context else 0.8
    return 0.7 if context else 0.3


def _check_ssn(text: str, start: int, end: int) -> float | None:
    digits = _digits(text[start:end])
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    if _glued_to_digits(text, start, end):
        return None
    separated = not text[start:end].isdigit()
    if _near(_SSN_CONTEXT, text, start, end):
        return 1.0
    return 0.8 if separated else None


def iban_valid(value: str) -> bool:
    """ISO 13616 check: registered country length and the mod-97 checksum."""
    compact = value.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _check_iban(text: str, start: int, end: int) -> float | None:
    return 1.0 if iban_valid(text[start:end]) else None


def _check_phone(text: str, start: int, end: int) -> float | None:
    value = text[start:end]
    digits = _digits(value)
    if _glued_to_digits(text, start, end):
        return None
    if value.startswith("+"):
        return 0.9 if 8 <= len(digits) <= 15 else None
    if value.startswith("(") or (len(digits) in (10, 11) and digits[0] != "0"):
        # North American numbers: area code and exchange never start with 0 or 1.
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        if len(national) == 10 and national[0] not in "01" and national[3] not in "01":
            return 0.8
        return None
    return 0.6 if 10 <= len(digits) <= 11 else None


def _check_ipv4(text: str, start: int, end: int) -> float | None:
    # The pattern takes a whole dotted run ("1.2.3.4.5", or 100 KB of "1."), so that an
    # adversarial run is one candidate to reject, not one per four octets: each costs
    # ~10 us in Python, and 12,500 of them took 130 ms.
    if text.count(".", start, end) != 3:
        return None
    before = text[max(0, start - 1) : start]
    after = text[end : end + 2]
    # Version strings (v1.2.3.4, 1.2.3.4.5) look like addresses but are not.
    if before in ("v", "V", ".") or (after[:1] == "." and after[1:2].isdigit()):
        return None
    return 0.9


def _check_ipv6(text: str, start: int, end: int) -> float | None:
    value = text[start:end]
    # "::", "::1" and C++-style "a::b" are valid syntax but not someone's address.
    if (
        len(value) < 6
        or value.count(":") < 2
        or text[end : end + 1].isalnum()
        or text[start - 1 : start] == ":"
    ):
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return 0.9


def _accept(score: float) -> Callable[[str, int, int], float | None]:
    return lambda text, start, end: score


def _check_jwt(text: str, start: int, end: int) -> float | None:
    import base64
    import json

    header = text[start:end].split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return None
    return 1.0 if isinstance(decoded, dict) and "alg" in decoded else None


def _email_value(value: str) -> str:
    return value.strip().casefold()


def _digits_value(value: str) -> str:
    return _digits(value)


def _compact_value(value: str) -> str:
    return value.replace(" ", "").upper()


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_H16 = r"[0-9A-Fa-f]{1,4}"

ENTITIES: tuple[Entity, ...] = (
    Entity(
        SECRETS,
        "PRIVATE_KEY",
        # A block cut off before its END line (a truncated paste) still goes, body and all.
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*)",
        _accept(1.0),
        100,
    ),
    Entity(
        SECRETS, "AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b", _accept(1.0), 90
    ),
    Entity(
        SECRETS,
        "AWS_SECRET_KEY",
        r"(?i)aws_?secret_?(?:access_?)?key\W{0,4}[A-Za-z0-9/+]{40}\b",
        _accept(1.0),
        90,
    ),
    Entity(SECRETS, "ANTHROPIC_API_KEY", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", _accept(1.0), 91),
    Entity(
        SECRETS, "OPENAI_API_KEY", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}", _accept(0.95), 90
    ),
    Entity(
        SECRETS,
        "GITHUB_TOKEN",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b",
        _accept(1.0),
        90,
    ),
    Entity(SECRETS, "SLACK_TOKEN", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", _accept(1.0), 90),
    Entity(
        SECRETS, "STRIPE_KEY", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}", _accept(1.0), 90
    ),
    Entity(SECRETS, "GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z_\-]{35}\b", _accept(1.0), 90),
    Entity(
        SECRETS,
        "JWT",
        r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        _check_jwt,
        85,
    ),
    Entity(
        PII,
        "EMAIL",
        # Latin letters only (accents allowed): \p{L} would swallow the Chinese or
        # Japanese text written right before an address, which has no space.
        r"[\p{Latin}0-9._%+\-]+@[\p{Latin}0-9\-]+(?:\.[\p{Latin}0-9\-]+)*\.\p{Latin}{2,}",
        _accept(1.0),
        70,
        _email_value,
    ),
    Entity(
        PII,
        "CREDIT_CARD",
        # Unbounded, so a long run of digits is one candidate (rejected for its length)
        # rather than thousands of 19-digit ones: see _check_ipv4.
        r"\b[0-9](?:[ \-]?[0-9]){12,}\b",
        _check_card,
        80,
        _digits_value,
    ),
    Entity(
        PII,
        "IBAN",
        r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        _check_iban,
        75,
        _compact_value,
    ),
    Entity(
        PII, "US_SSN", r"\b[0-9]{3}([\- ]?)[0-9]{2}[\- ]?[0-9]{4}\b", _check_ssn, 60, _digits_value
    ),
    Entity(PII, "IPV4", rf"\b{_OCTET}(?:\.{_OCTET}){{3,}}\b", _check_ipv4, 50),
    Entity(
        PII,
        "IPV6",
        rf"(?:{_H16})?(?::(?:{_H16})?){{2,}}(?:\.{_OCTET}){{0,3}}",
        _check_ipv6,
        50,
        str.lower,
    ),
    Entity(
        PII,
        "PHONE",
        r"(?:\+[0-9]{1,3}[ .\-]?(?:\([0-9]{1,4}\)[ .\-]?)?[0-9]{1,5}(?:[ .\-]?[0-9]{2,5}){1,4}"
        r"|(?:\b1[ .\-])?\([0-9]{3}\) ?[0-9]{3}[ .\-][0-9]{4}"
        r"|\b(?:1[ .\-])?[0-9]{3}[.\-][0-9]{3}[.\-][0-9]{4}"
        r"|\b0[0-9]{1,4}(?:[ .\-][0-9]{2,8}){1,4})\b",
        _check_phone,
        40,
        _digits_value,
    ),
)

ENTITY_TYPES: dict[str, frozenset[str]] = {
    detector: frozenset(e.type for e in ENTITIES if e.detector == detector)
    for detector in (PII, SECRETS)
}
PRIORITY = {e.type: e.priority for e in ENTITIES}


class EntityDetector:
    """Finds the entities of one detector ("pii" or "secrets")."""

    def __init__(self, detector: str) -> None:
        self.name = detector
        self._entities = [e for e in ENTITIES if e.detector == detector]
        self._patterns = PatternSet([e.pattern for e in self._entities])

    def detect(self, norm: Normalized) -> list[Candidate]:
        """Validated candidates with original-text offsets, possibly overlapping."""
        found: list[Candidate] = []
        text = norm.text
        for index, match in self._patterns.finditer(text):
            entity = self._entities[index]
            start, end = match.span()
            score = entity.check(text, start, end)
            if score is None:
                continue
            original_start, original_end = norm.span(start, end)
            found.append(
                Candidate(
                    self.name,
                    entity.type,
                    original_start,
                    original_end,
                    score,
                    f"{entity.type.lower().replace('_', ' ')} detected",
                    entity.value(text[start:end]),
                )
            )
        return found
