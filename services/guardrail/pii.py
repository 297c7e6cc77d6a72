"""PII and secret detectors: RE2 candidates, validated in Python.

Patterns find candidates in linear time; checks that regular expressions cannot
express (Luhn, IBAN mod-97, the check digits of national identifiers, IP address
ranges, SSN reserved ranges, digit counts, context words, "not glued to more digits")
run on the few candidates found. RE2 has no lookaround, so digit boundaries are checked
here too: a 16-digit card number must never yield a phone number from its middle.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import re2

from services.guardrail import national_ids as ids
from services.guardrail.model import Candidate
from services.guardrail.national_ids import luhn_valid
from services.guardrail.normalize import Normalized
from services.guardrail.patterns import PatternSet, options

PII = "pii"
SECRETS = "secrets"


def _words(*words: str) -> re2._Regexp:
    """Context words (or word patterns), whole and in any case. Searched in the
    normalised text, where accents are gone."""
    return re2.compile(rf"(?i)\b(?:{'|'.join(words)})\b", options())


# Words that make a Luhn-valid digit run much more likely to be a payment card.
_CARD_CONTEXT = _words(
    "card", "credit", "debit", "visa", "master ?card", "amex", "american express", "discover",
    "cc", "ccn", "pan", "cvv", "cvc", r"expir\w*", "exp", "payment", "pay", "billing", "charge",
)  # fmt: skip
_SSN_CONTEXT = _words("ssn", "social security", "social sec", "tax id", "itin")
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


Found = tuple[str, float, int, int]
"""A finding of an entity's check: type, score, start, end."""


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
    label: str = ""
    """What the finding's reason names ("GitLab token"); the type's name when empty."""
    group: bool = False
    """Report capture group 1, without the quotes around it, rather than the whole
    match: the password of a URL or the value of an assignment, not what frames it."""

    def find(self, text: str, start: int, end: int) -> list[Found]:
        """What the match at ``start:end`` holds: nothing, or this type there."""
        score = self.check(text, start, end)
        return [] if score is None else [(self.type, score, start, end)]

    def priorities(self) -> dict[str, int]:
        """The types this entity reports, with their priorities."""
        return {self.type: self.priority}


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
    # Version strings (v1.2.3.4, 1.2.3.4.5, "version 10.0.0.1") look like addresses but
    # are not.
    if before in ("v", "V", ".") or (after[:1] == "." and after[1:2].isdigit()):
        return None
    if (" " + text[max(0, start - 12) : start]).rstrip().lower().endswith(_VERSION_WORDS):
        return None
    # Loopback, "any", netmasks and broadcast (255. is reserved) are valid syntax but
    # nobody's address (as "::1").
    if text.startswith(_NOBODYS_ADDRESSES, start):
        return None
    return 0.9


# String tests, not a regex or ipaddress: each candidate of a 100 KB flood of addresses
# pays them (bench/README.md, "guardrail: three pattern changes").
_VERSION_WORDS = (" version", " ver", " ver.", " release", " build", " firmware")
_NOBODYS_ADDRESSES = ("127.", "0.0.0.0", "255.")


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


_SEPARATORS_GONE = str.maketrans("", "", " .-+")


def _alnum_value(value: str) -> str:
    return value.translate(_SEPARATORS_GONE).upper()


# --- National identifiers --------------------------------------------------------------
#
# One entity type per identifier, named as Presidio names it where it has one. Every
# candidate must pass its identifier's structure rules and check (national_ids.py).
#
# Identifiers with letters in fixed places (UK_NINO, ES_NIF, IT_FISCAL_CODE, ...) have a
# pattern each and are reported alone. Those written only in digits are runs of 9-15
# digits, and a check digit alone passes one in ten or eleven order numbers, phone
# numbers and amounts: they need a context word, or (some of them) the separators where
# the issuer prints them. They share two patterns (a run of 9 or more digits with
# separators; a plain run after a context word), so that a run is one candidate whatever
# it turns out to be: its layout ("ddd ddd dddd") says which identifiers it could be,
# and only those are checked. The table in docs/guardrail.md lists what needs context.
_ID_PRIORITY = 62
"""Above US_SSN and phones (a check and context are stronger evidence than their
shapes), below cards, IBANs and e-mail addresses."""
_NIR_PRIORITY = 81
"""A 15-digit NIR passes Luhn one time in ten, and "2 5..." is in Mastercard's range:
its two-digit mod-97 key and date fields are the stronger evidence."""


@dataclass(frozen=True)
class DigitId:
    """A national identifier written only in digits."""

    type: str
    valid: Callable[[str], bool]
    context: re2._Regexp
    lengths: tuple[int, ...]
    """Its digit counts. Plain digits are reported only with a context word."""
    printed: Mapping[str, float | None] = field(default_factory=dict)
    """Layouts the issuer prints ("ddd ddd dddd"), each with its score when no context
    word is near (None: it needs one too)."""
    priority: int = _ID_PRIORITY


_NIR_CONTEXT = _words("nir", "insee", "securite sociale", "secu", "social security", "carte vitale")
_DIGIT_IDS = (
    DigitId(
        "UK_NHS",
        ids.nhs_valid,
        _words("nhs", "national health", "health service", "health services"),
        (10,),
        # 3-3-4 is also how North American phone numbers are written.
        {"ddd ddd dddd": None, "ddd-ddd-dddd": None},
    ),
    DigitId(
        "CA_SIN",
        ids.ca_sin_valid,
        _words("sin", "social insurance", "nas", "assurance sociale"),
        (9,),
        # 3-3-3 is also how amounts are written in French and other languages.
        {"ddd ddd ddd": None, "ddd-ddd-ddd": None},
    ),
    DigitId(
        "AU_TFN",
        ids.au_tfn_valid,
        _words("tfn", "tax file"),
        (9,),
        {"ddd ddd ddd": None, "ddd-ddd-ddd": None},
    ),
    DigitId(
        "US_ITIN",
        ids.us_itin_valid,
        _words("itin", "individual taxpayer", "taxpayer identification", "tax id"),
        (9,),
        # As US_SSN: its printed layout alone.
        {"ddd-dd-dddd": 0.8, "ddd dd dddd": 0.8},
    ),
    DigitId(
        "IN_AADHAAR",
        ids.aadhaar_valid,
        _words("aadhaar", "aadhar", "adhaar", "uidai", "uid"),
        (12,),
        {"dddd dddd dddd": 0.7, "dddd-dddd-dddd": 0.7},
    ),
    DigitId("PL_PESEL", ids.pesel_valid, _words("pesel"), (11,)),
    DigitId(
        "NL_BSN",
        ids.nl_bsn_valid,
        _words("bsn", "burgerservicenummer", "sofinummer", "sofi", "citizen service number"),
        (9,),
        {"dddd.dd.ddd": None},
    ),
    DigitId(
        "SE_PERSONNUMMER",
        ids.se_personnummer_valid,
        _words("personnummer", "personnr", "samordningsnummer", "personal identity number"),
        (10, 12),
        # YYMMDD-NNNN (+ once a person is 100) is the printed form; twelve digits with a
        # dash read just as well as a date and a counter (build or ticket numbers).
        {"dddddd-dddd": 0.8, "dddddd+dddd": 0.8, "dddddddd-dddd": None},
    ),
    DigitId(
        "DE_TAX_ID",
        ids.de_tax_id_valid,
        _words(
            "steuer-?id",
            "steuer-?idnr",
            "steueridentifikationsnummer",
            "idnr",
            "identifikationsnummer",
            "steuerliche",
            "tax id",
            "tin",
        ),
        (11,),
        {"dd ddd ddd ddd": None},
    ),
    DigitId(
        "BR_CPF",
        ids.br_cpf_valid,
        _words("cpf", "cadastro de pessoas"),
        (11,),
        {"ddd.ddd.ddd-dd": 0.9},
    ),
    DigitId(
        "AU_MEDICARE",
        ids.au_medicare_valid,
        _words("medicare"),
        (10, 11),
        # The card number, then the individual reference number of one person on it.
        {"dddd ddddd d": 0.7, "dddd ddddd d d": 0.7, "dddd ddddd d-d": 0.7},
    ),
    DigitId(
        "FR_NIR",
        ids.fr_nir_valid,
        _NIR_CONTEXT,
        (15,),
        # The mod-97 key and the date fields still pass about one random 15-digit run in
        # 200: alone, only the printed layout counts.
        {"d dd dd dd ddd ddd dd": 0.85},
        _NIR_PRIORITY,
    ),
)
_DIGIT_TEMPLATE = str.maketrans("0123456789", "dddddddddd")
_DIGIT_CONTEXT = "|".join(f"(?:{m.context.pattern})" for m in _DIGIT_IDS)
_PLAIN_RUN = r"\b([0-9]{9,15})\b"
# At least 9 digits, a separator among the first 9 (written as its 8 places).
_SEPARATED_RUN = (
    r"\b(?:"
    + "|".join(f"[0-9]{{{k}}}[ .\\-+](?:[0-9][ .\\-+]?){{{8 - k}}}[0-9]" for k in range(1, 9))
    + r")(?:[ .\-+]?[0-9])*\b"
)
_GAP = r"[^0-9]{0,19}"


class DigitIdFamily(Entity):
    """The identifiers written only in digits, found by one pattern (see above)."""

    members: tuple[DigitId, ...]
    _layouts: dict[str, list[tuple[DigitId, float | None]]]
    _longest: int

    def __init__(self, members: tuple[DigitId, ...], pattern: str, *, group: bool = False) -> None:
        # ``check`` is not used: find() below says what a run is.
        super().__init__(
            PII, "DIGIT_ID", pattern, _accept(0.0), _ID_PRIORITY, _digits_value, group=group
        )
        layouts: dict[str, list[tuple[DigitId, float | None]]] = {}
        for member in members:
            for length in member.lengths:
                layouts.setdefault("d" * length, []).append((member, None))
            for layout, score in member.printed.items():
                layouts.setdefault(layout, []).append((member, score))
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "_layouts", layouts)
        object.__setattr__(self, "_longest", max(map(len, layouts)))

    def priorities(self) -> dict[str, int]:
        return {m.type: m.priority for m in self.members}

    def find(self, text: str, start: int, end: int) -> list[Found]:
        value = text[start:end]
        if len(value) > self._longest:
            return []
        layout = self._layouts.get(value.translate(_DIGIT_TEMPLATE))
        if layout is None:
            return []
        digits = value.translate(_SEPARATORS_GONE)
        # Checks first: they cost less than a context search (~1 µs against ~2-5 µs in
        # the re2 module) and fail for nine runs in ten.
        valid = [(member, alone) for member, alone in layout if member.valid(digits)]
        if not valid or _glued_to_digits(text, start, end):
            return []
        found: list[Found] = []
        for member, alone in valid:
            score = 1.0 if _near(member.context, text, start, end) else alone
            if score is not None:
                found.append((member.type, score, start, end))
        return found


def _lettered(
    valid: Callable[[str], bool],
    context: re2._Regexp,
    alone: Callable[[str], float | None],
    compact: Callable[[str], str] = _alnum_value,
) -> Callable[[str, int, int], float | None]:
    """The check of an identifier with letters: ``valid`` on the compacted value (no
    separators, upper case), then 1.0 with a context word near, else ``alone(value)``
    (None: not reported)."""

    def check(text: str, start: int, end: int) -> float | None:
        value = text[start:end]
        if not valid(compact(value)):
            return None
        return 1.0 if _near(context, text, start, end) else alone(value)

    return check


def _pan_alone(value: str) -> float | None:
    # Alone, only the PAN of a person (holder status P) counts as personal data.
    return 0.75 if value[3] == "P" else None


def _fixed(score: float) -> Callable[[str], float | None]:
    return lambda value: score


class IdTokens(Entity):
    """An identifier with letters and no spaces inside. Its pattern (one token) is
    repeated to take a run of them separated by single spaces, so that a flood of
    look-alikes failing their check is one match, each token checked here: the re2
    module spends ~3 µs per match it returns, 30 ms for 10,000 of them."""

    def __init__(
        self,
        kind: str,
        token: str,
        check: Callable[[str, int, int], float | None],
        value: Callable[[str], str] = _alnum_value,
    ) -> None:
        pattern = rf"{token}(?: {token})*"
        super().__init__(PII, kind, pattern, check, _ID_PRIORITY, value)

    def find(self, text: str, start: int, end: int) -> list[Found]:
        found = []
        for token in text[start:end].split(" "):
            score = self.check(text, start, start + len(token))
            if score is not None:
                found.append((self.type, score, start, start + len(token)))
            start += len(token) + 1
        return found


def _nino_prefix() -> str:
    """HMRC's prefix rules as a pattern (the first letter, then the second letters it may
    take), so that every match is a valid NINO: a flood of look-alikes costs no checks."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pairs = []
    for first in letters:
        if first in ids.NINO_NOT_FIRST:
            continue
        seconds = "".join(
            c
            for c in letters
            if c not in ids.NINO_NOT_SECOND and first + c not in ids.NINO_UNALLOCATED
        )
        pairs.append(f"{first}[{seconds}]")
    return f"(?:{'|'.join(pairs)})"


_LETTERED_IDS = (
    Entity(
        PII,
        "UK_NINO",
        # Upper case only: in lower case the letters may be words ("as 12 34 56 a").
        rf"\b{_nino_prefix()} ?[0-9]{{2}} ?[0-9]{{2}} ?[0-9]{{2}} ?[A-D]\b",
        _lettered(
            ids.nino_valid,
            _words("national insurance", "ni number", "ni no", "nino", "insurance number"),
            _fixed(0.85),
        ),
        _ID_PRIORITY,
        _alnum_value,
    ),
    IdTokens(
        "IN_PAN",
        r"\b[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]\b",
        _lettered(ids.pan_valid, _words("pan", "permanent account", "income tax"), _pan_alone),
    ),
    IdTokens(
        "ES_NIF",
        r"\b[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}-?[A-Za-z]\b",
        _lettered(
            ids.es_dni_valid,
            _words("dni", "nif", "documento nacional", "identificacion fiscal"),
            _fixed(0.85),
        ),
    ),
    IdTokens(
        "ES_NIE",
        r"\b[XYZxyz]-?[0-9]{7}-?[A-Za-z]\b",
        _lettered(ids.es_nie_valid, _words("nie", "extranjero", "extranjeros"), _fixed(0.85)),
    ),
    IdTokens(
        "IT_FISCAL_CODE",
        r"(?i:\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
        r"[0-9LMNPQRSTUV]{3}[A-Z]\b)",
        _lettered(
            ids.it_fiscal_code_valid,
            _words("codice fiscale", "cod fisc", "cf", "fiscal code", "tax code"),
            _fixed(0.95),
        ),
    ),
    IdTokens(
        "FI_PERSONAL_IDENTITY_CODE",
        r"\b[0-9]{6}[\-+A-FU-Y][0-9]{3}[0-9A-Y]\b",
        _lettered(
            ids.fi_hetu_valid,
            _words("hetu", "henkilotunnus", "personbeteckning", "personal identity code"),
            _fixed(0.9),
            # The century sign is part of the code.
            compact=str.upper,
        ),
        value=str.upper,
    ),
    IdTokens(
        "SG_NRIC_FIN",
        r"\b[STFGMstfgm][0-9]{7}[A-Za-z]\b",
        _lettered(ids.sg_nric_valid, _words("nric", "fin", "identity card", "uin"), _fixed(0.9)),
    ),
    Entity(
        PII,
        "FR_NIR",
        # Only the Corsican numbers (department 2A or 2B) have letters; the others are in
        # the digit family.
        r"\b[1-478] ?[0-9]{2} ?[0-9]{2} ?2[ABab] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}\b",
        _lettered(ids.fr_nir_valid, _NIR_CONTEXT, _fixed(0.85)),
        _NIR_PRIORITY,
        _alnum_value,
    ),
)


# --- Credentials -----------------------------------------------------------------------
#
# Three kinds, three entity types (docs/guardrail.md, "Secret types"):
#
# * API_TOKEN: a provider token recognised by its documented shape alone (a prefix such
#   as ``glpat-`` or ``hf_`` and a fixed length or structure). One type for every
#   provider, named in the finding's reason, so a policy lists one type instead of
#   dozens; the types that existed before (GITHUB_TOKEN, SLACK_TOKEN, ...) keep exactly
#   their formats.
# * PASSWORD: a value given to a password-named key (``DB_PASSWORD=...``,
#   ``"password": "..."``, ``--password ...``, SQL ``IDENTIFIED BY '...'``) or the
#   password of a URL (``postgres://user:password@host``).
# * CREDENTIAL: a value given to another secret-named key (``api_key``, ``client_secret``,
#   ``SECRET_KEY``, ``auth``, ``token``, Azure ``AccountKey``, ...) or sent in an
#   ``Authorization`` header.
#
# Only the value is reported, never the key or the URL's host. Context finds candidates
# and a rule decides whether a value looks like a secret (see _secret_like), so prose
# ("the password field"), code (``password = request.form["password"]``) and
# placeholders (``<your-password>``, ``${DB_PASSWORD}``, ``changeme``) stay quiet.

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _token(
    score: float = 1.0, *, extra: str = "", longest: int = 0, alone: bool = False
) -> Callable[[str, int, int], float | None]:
    """Accepts a token that is not glued to more token characters (a longer run is
    something else), at most ``longest`` long when the pattern leaves it open; ``alone``
    checks the character before it too, for a shape without a prefix."""
    glue = _TOKEN_CHARS | set(extra)

    def check(text: str, start: int, end: int) -> float | None:
        if text[end : end + 1] in glue:
            return None
        if alone and start > 0 and text[start - 1] in glue:
            return None
        if longest and end - start > longest:
            return None
        return score

    return check


def _check_discord(text: str, start: int, end: int) -> float | None:
    import base64
    import binascii

    user_id, _, rest = text[start:end].partition(".")
    if len(rest.rpartition(".")[2]) > 38 or _STANDALONE(text, start, end) is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(user_id + "=" * (-len(user_id) % 4))
    except (binascii.Error, ValueError):
        return None
    # The first part is the bot's user id (a Discord snowflake) in base64.
    return 1.0 if decoded.isdigit() and 17 <= len(decoded) <= 20 else None


_STANDALONE = _token()
_B64 = "A-Za-z0-9+/"
_TK = "A-Za-z0-9_\\-"
# (label, pattern, check): documented in gitleaks' rule set (config/gitleaks.toml) and
# by the vendors. Lengths the vendors leave open are written ``{n}[...]*`` and bounded in
# the check, so that no pattern has a wide counted repetition (see patterns.py).
_PROVIDER_TOKENS: tuple[tuple[str, str, Callable[[str, int, int], float | None]], ...] = (
    (
        "GitLab token",
        # The routable format ends in ".", a 2-character version and a 7-character crc.
        rf"\bgl(?:pat|dt|rt|ptt|ft|imt|agent|oas|soat|ffct|cbt)-[{_TK}]{{20}}[{_TK}]*"
        r"(?:\.[0-9a-z]{9})?",
        _token(longest=320),
    ),
    ("GitLab runner registration token", rf"\bGR1348941[{_TK}]{{20}}", _token()),
    ("Hugging Face token", r"\b(?:hf_|api_org_)[A-Za-z0-9]{34}", _token()),
    ("npm token", r"\bnpm_[A-Za-z0-9]{36}", _token()),
    (
        "PyPI token",
        rf"\bpypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[{_TK}]{{50}}[{_TK}]*",
        _token(longest=1100),
    ),
    ("SendGrid key", rf"\bSG\.[{_TK}]{{22}}\.[{_TK}]{{43}}", _token()),
    ("Twilio API key", r"\bSK[0-9a-f]{32}", _token(0.9)),
    ("Mailgun key", r"\b(?:key|pubkey)-[0-9a-z]{32}", _token(0.9)),
    ("Mailchimp key", r"\b[0-9a-f]{32}-us[0-9]{1,2}", _token(0.9)),
    # 35 characters after the colon; Telegram's own example has 34.
    ("Telegram bot token", rf"\b[0-9]{{6,12}}:A[{_TK}]{{33}}[{_TK}]?", _token(0.9)),
    (
        "Discord bot token",
        rf"\b[MNO][{_TK}]{{23}}[{_TK}]?[{_TK}]?\.[{_TK}]{{6}}\.[{_TK}]{{27}}[{_TK}]*",
        _check_discord,
    ),
    ("Shopify token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", _token()),
    ("DigitalOcean token", r"\bdo[opr]_v1_[a-f0-9]{64}", _token()),
    ("Databricks token", r"\bdapi[a-f0-9]{32}(?:-[0-9])?", _token()),
    ("Google OAuth client secret", rf"\bGOCSPX-[{_TK}]{{28}}", _token()),
    (
        "Slack webhook",
        r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"[A-Za-z0-9_/+\-]{20}[A-Za-z0-9_/+\-]*",
        _accept(1.0),
    ),
    ("Slack app token", r"\bxapp-[0-9]-[A-Z0-9]+-[0-9]+-[a-z0-9]{16}[a-z0-9]*", _token()),
    ("Stripe webhook secret", r"\bwhsec_[A-Za-z0-9]{32}[A-Za-z0-9]*", _token(longest=80)),
    (
        "Azure AD client secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31}[A-Za-z0-9_~.\-]?[A-Za-z0-9_~.\-]?"
        r"[A-Za-z0-9_~.\-]?",
        _token(extra="~.", alone=True),
    ),
    ("Alibaba Cloud access key", r"\bLTAI[A-Za-z0-9]{20}", _token()),
    ("Groq key", r"\bgsk_[A-Za-z0-9]{52}", _token()),
    ("Perplexity key", r"\bpplx-[A-Za-z0-9]{48}", _token()),
    ("age secret key", r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", _token()),
    ("Atlassian token", rf"\bATATT3[{_TK}=]{{186}}", _token(extra="=")),
    ("Doppler token", r"\bdp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40}[A-Za-z0-9]*", _token()),
    ("Dynatrace token", r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", _token()),
    ("Linear key", r"\blin_api_[A-Za-z0-9]{40}", _token()),
    ("Notion token", r"\bntn_[0-9]{11}[A-Za-z0-9]{35}", _token()),
    ("Postman key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}", _token()),
    ("Pulumi token", r"\bpul-[a-f0-9]{40}", _token()),
    ("RubyGems key", r"\brubygems_[a-f0-9]{48}", _token()),
    ("Brevo key", r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", _token()),
    ("Sentry token", r"\bsntry[us]_[A-Za-z0-9+/=_]{64}[A-Za-z0-9+/=_]*", _token(extra="+/=")),
    ("Vault token", rf"\bhv[sb]\.[{_TK}]{{90}}[{_TK}]*", _token(longest=400)),
    (
        "Grafana token",
        rf"\b(?:glsa_[A-Za-z0-9]{{32}}_[A-Fa-f0-9]{{8}}|glc_[{_B64}]{{32}}[{_B64}]*=*)",
        _token(extra="+/=", longest=410),
    ),
    ("Heroku key", rf"\bHRKU-AA[{_TK}]{{58}}", _token()),
    ("PlanetScale token", r"\bpscale_(?:tkn|pw|oauth)_[\w=.\-]{32}[\w=.\-]*", _token(longest=80)),
    ("Square token", rf"\bsq0(?:atp-[{_TK}]{{22}}|csp-[{_TK}]{{43}})", _token()),
    ("OpenShift token", rf"\bsha256~[{_TK}]{{43}}", _token()),
)

# Key names whose value is a secret. The pattern ends a key with one of them (so
# ``password_reset_url`` or ``max_tokens`` are not keys of a secret) and _check_* below
# looks at the whole key.
_PASSWORD_KEY = r"passw(?:or)?d|passwort|passphrase|pwd|pass"
_CREDENTIAL_KEY = (
    r"secret|token|auth|credentials?|apikey|"
    r"(?:api|access|secret|private|account|shared[_.\-]?access|encryption|signing|master)"
    r"[_.\-]?key"
)
# A value of at least 8 characters (shorter ones are never taken: see _secret_like),
# quoted with one of three quotes or bare. Group 1 holds it with its quotes, which
# _reported_span trims.
_VALUE = (
    r"""("[^"\n]{8}[^"\n]*"|'[^'\n]{8}[^'\n]*'|`[^`\n]{8}[^`\n]*`"""
    r"""|[^\s"'`,;&<>\-][^\s"'`,;&<>]{7}[^\s"'`,;&<>]*)"""
)
# key ["'\]]? separator value
_ASSIGNMENT = r"""["'\]]?[ \t]*(?::=|=>|=|:|>)[ \t]*""" + _VALUE
_FLAG_VALUE = r"[ \t]+" + _VALUE
# Words that only name a secret where a key segment starts ("DB_PASS", "dbPass", not
# "bypass" or "OAuth").
_SEGMENT_WORDS = ("pass", "pwd", "auth")
# Keys of values that are not secrets even though their last word is.
_NOT_SECRET_KEYS = ("pagetoken", "nexttoken", "continuationtoken", "synctoken", "resumetoken")
_PLACEHOLDERS = frozenset(
    {
        "password", "passwd", "passphrase", "secret", "token", "apikey", "api_key",
        "changeme", "changeit", "letmein", "default", "example", "sample", "dummy", "test",
        "null", "none", "nil", "true", "false", "undefined", "required", "optional",
        "string", "redacted", "hidden", "masked", "pass", "pwd", "user:pass",
    }
)  # fmt: skip
_PLACEHOLDER_PARTS = (
    "your", "example", "placeholder", "changeme", "change_me", "change-me", "redacted",
    "xxxx", "****", "...", "${", "{{", "}}", "<", ">",
)  # fmt: skip
# Names, types, constants and attribute paths: ``string``, ``YOUR_API_KEY``,
# ``self.password``, ``process.env.API_KEY``. No digit, so no random token.
_NAME = re2.compile(r"[A-Za-z_\-]+(?:\??\.[A-Za-z_\-]+)*", options())
_CODE_CHARS = frozenset("()[]{}")


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return (
        value[:1] in ("$", "%", "{", "<", "[", "(", "*", "#", "@")
        or len(set(value)) <= 2
        or lowered in _PLACEHOLDERS
        or any(part in lowered for part in _PLACEHOLDER_PARTS)
    )


def _secret_like(value: str, quoted: bool) -> bool:
    """Whether an assigned value looks like a secret rather than a word, name or
    placeholder: at least 8 characters, no whitespace, not a placeholder, a template or
    a path, not only digits (ids, ports, counts), not a name or attribute path (no
    digit), and, unquoted, no brackets (a call, subscript or type)."""
    if len(value) < 8 or value.isdigit() or _placeholder(value):
        return False
    if any(c.isspace() for c in value) or "://" in value:
        return False
    if value.startswith(("/", "./", "../", "~/")) or value[1:3] == ":\\":
        return False
    if not quoted and (not _CODE_CHARS.isdisjoint(value) or "->" in value or "::" in value):
        return False
    return _NAME.fullmatch(value) is None


def _quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and text[start - 1] in "\"'`" and text[end : end + 1] == text[start - 1]


def _key_before(text: str, start: int) -> str:
    """The key a value is assigned to: the name before the separator and quotes."""
    index = start
    while index > 0 and text[index - 1] in " \t:=>\"'`]":
        index -= 1
    key_end = index
    while index > 0 and (text[index - 1].isalnum() or text[index - 1] in "_.-"):
        index -= 1
    return text[index:key_end].lstrip("-.")


def _key_names_secret(key: str, words: tuple[str, ...]) -> bool:
    compact = "".join(c for c in key.lower() if c.isalnum())
    if compact.endswith(_NOT_SECRET_KEYS):
        return False
    for word in words:
        if compact.endswith(word):
            if word not in _SEGMENT_WORDS or len(key) == len(word):
                return True
            before, first = key[-len(word) - 1], key[-len(word)]
            return not before.isalpha() or (before.islower() and first.isupper())
    return False


_PASSWORD_WORDS = ("password", "passwd", "passwort", "passphrase", "pwd", "pass")
_CREDENTIAL_WORDS = ("secret", "token", "auth", "credentials", "credential", "key")


def _assigned(words: tuple[str, ...], score: float) -> Callable[[str, int, int], float | None]:
    def check(text: str, start: int, end: int) -> float | None:
        if not _secret_like(text[start:end], _quoted(text, start, end)):
            return None
        return score if _key_names_secret(_key_before(text, start), words) else None

    return check


def _check_secret_value(score: float) -> Callable[[str, int, int], float | None]:
    def check(text: str, start: int, end: int) -> float | None:
        return score if _secret_like(text[start:end], _quoted(text, start, end)) else None

    return check


def _check_url_password(text: str, start: int, end: int) -> float | None:
    # The frame (scheme://user:...@host) is unmistakable: only placeholders are skipped.
    return None if _placeholder(text[start:end]) else 0.95


_SECRET_ENTITIES: tuple[Entity, ...] = (
    *(
        Entity(SECRETS, "API_TOKEN", pattern, check, 90, label=label)
        for label, pattern, check in _PROVIDER_TOKENS
    ),
    Entity(
        SECRETS,
        "PASSWORD",
        # The password may hold "@" and ":" (unencoded, as people paste them): the
        # greedy run ends at the last "@" before the host.
        r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\"'<>]*:"
        r"([^\s/?#\"'<>]{3}[^\s/?#\"'<>]*)@[A-Za-z0-9\[_]",
        _check_url_password,
        84,
        label="password in URL",
        group=True,
    ),
    Entity(
        SECRETS,
        "PASSWORD",
        rf"(?i)(?:{_PASSWORD_KEY}){_ASSIGNMENT}",
        _assigned(_PASSWORD_WORDS, 0.9),
        84,
        label="assigned password",
        group=True,
    ),
    Entity(
        SECRETS,
        "PASSWORD",
        rf"(?i)--(?:{_PASSWORD_KEY}){_FLAG_VALUE}",
        _assigned(_PASSWORD_WORDS, 0.9),
        84,
        label="password option",
        group=True,
    ),
    Entity(
        SECRETS,
        "PASSWORD",
        r"(?i)\b(?:password|identified[ \t]+by)[ \t]+('[^'\n]{8}[^'\n]*'|\"[^\"\n]{8}[^\"\n]*\")",
        _check_secret_value(0.9),
        84,
        label="quoted password",
        group=True,
    ),
    Entity(
        SECRETS,
        "CREDENTIAL",
        rf"(?i)(?:{_CREDENTIAL_KEY}){_ASSIGNMENT}",
        _assigned(_CREDENTIAL_WORDS, 0.85),
        84,
        label="assigned secret",
        group=True,
    ),
    Entity(
        SECRETS,
        "CREDENTIAL",
        rf"(?i)--(?:{_CREDENTIAL_KEY}|[a-z]+-token|client-secret){_FLAG_VALUE}",
        _assigned(_CREDENTIAL_WORDS, 0.85),
        84,
        label="secret option",
        group=True,
    ),
    Entity(
        SECRETS,
        "CREDENTIAL",
        r"(?i)\b(?:bearer[ \t]+|authorization[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?:(?:bearer|basic|token|bot|apikey|api-key|key|sso-key|digest)[ \t]+)?)"
        r"([A-Za-z0-9._~+/\-]{8}[A-Za-z0-9._~+/\-]*=*)",
        _check_secret_value(0.9),
        84,
        label="authorization header credential",
        group=True,
    ),
)


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
    *_SECRET_ENTITIES,
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
    # Runs of 9 or more digits with separators (one candidate per run, however long).
    DigitIdFamily(_DIGIT_IDS, _SEPARATED_RUN),
    # Plain runs only after a context word ("PESEL: ..."; Presidio too looks only before
    # an entity by default): the others would be candidates rejected one by one (4,761
    # ten-digit numbers cost 40 ms), and most numbers in prose are plain.
    DigitIdFamily(_DIGIT_IDS, rf"(?:{_DIGIT_CONTEXT}){_GAP}{_PLAIN_RUN}", group=True),
    *_LETTERED_IDS,
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
    detector: frozenset(t for e in ENTITIES if e.detector == detector for t in e.priorities())
    for detector in (PII, SECRETS)
}
PRIORITY = {t: p for e in ENTITIES for t, p in e.priorities().items()}


def _reported_span(text: str, match: re2._Match, group: bool) -> tuple[int, int]:
    if not group:
        return match.span()
    start, end = match.span(1)
    if end - start >= 2 and text[start] in "\"'`" and text[end - 1] == text[start]:
        return start + 1, end - 1
    return start, end


class EntityDetector:
    """Finds the entities of one detector ("pii" or "secrets")."""

    def __init__(self, detector: str) -> None:
        self.name = detector
        self._entities = [e for e in ENTITIES if e.detector == detector]
        # Secret patterns start with literals (prefixes, key names), so the DFA of all of
        # them in one set stays small: one scan of the text instead of two (1.5 µs per KB).
        self._patterns = PatternSet([e.pattern for e in self._entities], set_size=64)

    def detect(self, norm: Normalized) -> list[Candidate]:
        """Validated candidates with original-text offsets, possibly overlapping."""
        found: list[Candidate] = []
        text = norm.text
        for index, match in self._patterns.finditer(text):
            entity = self._entities[index]
            span = _reported_span(text, match, entity.group)
            for kind, score, start, end in entity.find(text, *span):
                original_start, original_end = norm.span(start, end)
                found.append(
                    Candidate(
                        self.name,
                        kind,
                        original_start,
                        original_end,
                        score,
                        f"{entity.label or kind.lower().replace('_', ' ')} detected",
                        entity.value(text[start:end]),
                    )
                )
        return found
