"""Check digits and structure rules of national identifiers, one function per identifier.

Each function takes the identifier without separators (digits and letters only, as the
pii detector's checks pass them) and says whether it could have been issued: its
length, the ranges its issuer publishes (dates of birth, prefixes, holder types) and
its check digit or letter. Written from the issuers' specifications, cited on each
function; the pii detector (services/guardrail/pii.py) decides where a valid number
also needs a context word.
"""

from __future__ import annotations

import calendar
from operator import mul


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    """Sum of digit times weight, over as many digits as there are weights."""
    return sum(map(mul, map(int, digits[: len(weights)]), weights))


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""A digit doubled, its two digits added (7 -> 14 -> 5)."""


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum: payment cards, Canadian SINs, Swedish personnummer."""
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(map(_LUHN_DOUBLED.__getitem__, map(int, digits[-2::-2])))
    return (kept + doubled) % 10 == 0


def _date_valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def nhs_valid(number: str) -> bool:
    """UK NHS number (NHS Data Dictionary): 10 digits, weights 10..2 on the first nine,
    check = 11 - sum mod 11 (11 becomes 0; 10 is never issued)."""
    if len(number) != 10 or not number.isdigit():
        return False
    check = 11 - _weighted(number, (10, 9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return check != 10 and check % 11 == int(number[9])


# HMRC National Insurance Manual NIM39110: letters never used in the prefix, and prefixes
# never allocated.
NINO_NOT_FIRST = frozenset("DFIQUV")
NINO_NOT_SECOND = frozenset("DFIOQUV")
NINO_UNALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_valid(value: str) -> bool:
    """UK National Insurance number: two prefix letters (HMRC's exclusions), six digits,
    and a suffix A-D, which may be left out."""
    value = value.upper()
    if len(value) not in (8, 9) or not value[2:8].isdigit():
        return False
    prefix, suffix = value[:2], value[8:]
    return (
        prefix.isalpha()
        and prefix[0] not in NINO_NOT_FIRST
        and prefix[1] not in NINO_NOT_SECOND
        and prefix not in NINO_UNALLOCATED
        and suffix in ("", "A", "B", "C", "D")
    )


def ca_sin_valid(number: str) -> bool:
    """Canadian Social Insurance Number (ESDC): 9 digits, Luhn; 0 and 8 are not issued
    to people as first digits."""
    return len(number) == 9 and number.isdigit() and number[0] not in "08" and luhn_valid(number)


def _verhoeff_tables() -> tuple[list[list[int]], list[list[int]]]:
    """The dihedral group D5 (multiplication) and the position permutation, built from
    their definitions rather than typed in."""

    def multiply(j: int, k: int) -> int:
        if j < 5:
            return (j + k) % 5 + (5 if k >= 5 else 0)
        return (j - k) % 5 + (0 if k >= 5 else 5)

    table = [[multiply(j, k) for k in range(10)] for j in range(10)]
    sigma = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
    permutations = [list(range(10))]
    for _ in range(7):
        permutations.append([sigma[n] for n in permutations[-1]])
    return table, permutations


_VERHOEFF_D, _VERHOEFF_P = _verhoeff_tables()


def verhoeff_valid(digits: str) -> bool:
    """Verhoeff's dihedral check digit (catches every single-digit error and every
    adjacent transposition)."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def aadhaar_valid(number: str) -> bool:
    """Indian Aadhaar (UIDAI): 12 digits, never starting with 0 or 1, Verhoeff check."""
    return len(number) == 12 and number.isdigit() and number[0] > "1" and verhoeff_valid(number)


# Income Tax Department: the fourth character of a PAN is the holder's status (P a person,
# C a company, H a Hindu undivided family, F a firm, A an association of persons, T a
# trust, B a body of individuals, L a local authority, J an artificial juridical person,
# G the government).
PAN_HOLDER_TYPES = frozenset("ABCFGHJLPT")


def pan_valid(value: str) -> bool:
    """Indian Permanent Account Number: five letters (the fourth a holder status), four
    digits, a letter. It has no published check."""
    return (
        len(value) == 10
        and value[:5].isalpha()
        and value[5:9].isdigit()
        and value[9].isalpha()
        and value[3] in PAN_HOLDER_TYPES
    )


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni_valid(value: str) -> bool:
    """Spanish DNI/NIF (Ministerio del Interior): 8 digits and the letter of their
    value mod 23."""
    value = value.upper()
    return len(value) == 9 and value[:8].isdigit() and _DNI_LETTERS[int(value[:8]) % 23] == value[8]


def es_nie_valid(value: str) -> bool:
    """Spanish NIE: X, Y or Z (read as 0, 1, 2), 7 digits, and the DNI letter of the
    resulting 8-digit number."""
    value = value.upper()
    if len(value) != 9 or value[0] not in "XYZ":
        return False
    return es_dni_valid(str("XYZ".index(value[0])) + value[1:])


# Decreto ministeriale 23/12/1976: the check character's values for characters in odd
# positions (1st, 3rd, ...), digits and letters alike by their place in 0-9 / A-Z.
_CF_ODD = (
    1,
    0,
    5,
    7,
    9,
    13,
    15,
    17,
    19,
    21,
    2,
    4,
    18,
    20,
    11,
    3,
    6,
    8,
    12,
    14,
    16,
    10,
    22,
    25,
    24,
    23,
)
_CF_MONTHS = "ABCDEHLMPRST"
# Omocodia: a digit replaced by a letter when two people would get the same code.
_CF_DIGIT_LETTERS = "LMNPQRSTUV"
_CF_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)


def _cf_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def it_fiscal_code_valid(value: str) -> bool:
    """Italian codice fiscale of a person: 6 letters (surname, name), year, month letter,
    day (plus 40 for women), a place code (letter and 3 digits), check letter; any digit
    may be replaced by its omocodia letter."""
    value = value.upper()
    if len(value) != 16 or not value.isalnum() or not value.isascii():
        return False
    decoded = list(value)
    for position in _CF_DIGIT_POSITIONS:
        char = value[position]
        if char in _CF_DIGIT_LETTERS:
            decoded[position] = str(_CF_DIGIT_LETTERS.index(char))
        elif not char.isdigit():
            return False
    if not (value[:6].isalpha() and value[11].isalpha() and value[8] in _CF_MONTHS):
        return False
    day = int(decoded[9] + decoded[10])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return False
    # A digit and the letter at the same place in the alphabet weigh the same.
    total = sum(
        _CF_ODD[_cf_value(char)] if index % 2 == 0 else _cf_value(char)
        for index, char in enumerate(value[:15])
    )
    return chr(ord("A") + total % 26) == value[15]


# Month offsets that encode the century of a PESEL's date of birth.
_PESEL_CENTURIES = {80: 1800, 0: 1900, 20: 2000, 40: 2100, 60: 2200}


def pesel_valid(number: str) -> bool:
    """Polish PESEL: date of birth YYMMDD (the month carries the century), 4 digits,
    check digit with weights 1,3,7,9."""
    if len(number) != 11 or not number.isdigit():
        return False
    month = int(number[2:4])
    offset = month - (month - 1) % 20 - 1
    if offset not in _PESEL_CENTURIES:
        return False
    year = _PESEL_CENTURIES[offset] + int(number[:2])
    if not _date_valid(year, month - offset, int(number[4:6])):
        return False
    check = (10 - _weighted(number, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10
    return check == int(number[10])


def nl_bsn_valid(number: str) -> bool:
    """Dutch burgerservicenummer: 9 digits passing the "11-proef" (weights 9..2 and -1)."""
    if len(number) != 9 or not number.isdigit() or int(number) == 0:
        return False
    return (_weighted(number, (9, 8, 7, 6, 5, 4, 3, 2)) - int(number[8])) % 11 == 0


def se_personnummer_valid(number: str) -> bool:
    """Swedish personnummer (Skatteverket): [YY]YYMMDD and 4 digits, the last a Luhn
    check over the 10-digit form; samordningsnummer add 60 to the day."""
    if len(number) not in (10, 12) or not number.isdigit():
        return False
    short = number[-10:]
    month, day = int(short[2:4]), int(short[4:6])
    if day > 60:
        day -= 60
    if len(number) == 12:
        if number[:2] not in ("18", "19", "20"):
            return False
        years = [int(number[:4])]
    else:
        years = [1900 + int(short[:2]), 2000 + int(short[:2])]
    if not any(_date_valid(year, month, day) for year in years):
        return False
    return luhn_valid(short)


# Digital and Population Data Services Agency (DVV): the century sign (the letters
# since 2023), and the 31 check characters (no G, I, O, Q, Z).
_HETU_CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def fi_hetu_valid(value: str) -> bool:
    """Finnish henkilötunnus DDMMYYCZZZQ: date of birth, century sign, individual number
    (002-999; 900 and up are temporary), check character of DDMMYYZZZ mod 31."""
    value = value.upper()
    if len(value) != 11 or value[6] not in _HETU_CENTURIES:
        return False
    digits = value[:6] + value[7:10]
    if not digits.isdigit() or int(value[7:10]) < 2:
        return False
    year = _HETU_CENTURIES[value[6]] + int(value[4:6])
    if not _date_valid(year, int(value[2:4]), int(value[:2])):
        return False
    return _HETU_CHECK[int(digits) % 31] == value[10]


def fr_nir_valid(value: str) -> bool:
    """French NIR / INSEE number: sex (1, 2; 3, 4, 7, 8 for provisional numbers), year,
    month (01-12, or 20-42 and 50-99 when unknown), department (2A/2B for Corsica),
    commune, order, and the key 97 - (number mod 97), with 2A read as 19 and 2B as 18."""
    value = value.upper()
    if len(value) != 15 or value[0] not in "123478":
        return False
    month = value[3:5]
    if not month.isdigit() or int(month) in (0, *range(13, 20), *range(43, 50)):
        return False
    body = value[:13]
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not body.isdigit() or not value[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(value[13:])


def de_tax_id_valid(number: str) -> bool:
    """German Steuerliche Identifikationsnummer (§ 139b AO): 11 digits, no leading 0; in
    the first ten exactly one digit repeats (twice, or three times but not three in a
    row) and the others appear at most once; ISO 7064 MOD 11,10 check digit."""
    if len(number) != 11 or not number.isdigit() or number[0] == "0":
        return False
    counts = [number[:10].count(d) for d in set(number[:10])]
    repeated = [c for c in counts if c > 1]
    if len(repeated) != 1 or repeated[0] > 3:
        return False
    first_ten = number[:10]
    if repeated[0] == 3 and any(
        first_ten[i] == first_ten[i + 1] == first_ten[i + 2] for i in range(8)
    ):
        return False
    product = 10
    for char in number[:10]:
        total = (int(char) + product) % 10 or 10
        product = total * 2 % 11
    return (11 - product) % 10 == int(number[10])


def br_cpf_valid(number: str) -> bool:
    """Brazilian CPF (Receita Federal): 9 digits and two mod-11 check digits; numbers of
    one repeated digit pass the arithmetic but are not issued."""
    if len(number) != 11 or not number.isdigit() or len(set(number)) == 1:
        return False
    for length in (9, 10):
        remainder = _weighted(number, tuple(range(length + 1, 1, -1))) % 11
        if (0 if remainder < 2 else 11 - remainder) != int(number[length]):
            return False
    return True


# Check letters by (weighted sum + series offset) mod 11, per series: S and T (citizens
# and permanent residents), F and G (foreigners), M (foreigners, since 2022).
_NRIC_SERIES = {
    "S": (0, "JZIHGFEDCBA"),
    "T": (4, "JZIHGFEDCBA"),
    "F": (0, "XWUTRQPNMLK"),
    "G": (4, "XWUTRQPNMLK"),
    "M": (3, "XWUTRQPNJLK"),
}


def sg_nric_valid(value: str) -> bool:
    """Singapore NRIC/FIN: series letter, 7 digits, check letter (weights 2,7,6,5,4,3,2)."""
    value = value.upper()
    if len(value) != 9 or value[0] not in _NRIC_SERIES or not value[1:8].isdigit():
        return False
    offset, letters = _NRIC_SERIES[value[0]]
    return letters[(_weighted(value[1:8], (2, 7, 6, 5, 4, 3, 2)) + offset) % 11] == value[8]


def au_tfn_valid(number: str) -> bool:
    """Australian tax file number (ATO), the 9-digit form: weights 1,4,3,7,5,8,6,9,10,
    the sum a multiple of 11."""
    return (
        len(number) == 9
        and number.isdigit()
        and _weighted(number, (1, 4, 3, 7, 5, 8, 6, 9, 10)) % 11 == 0
    )


def au_medicare_valid(number: str) -> bool:
    """Australian Medicare card number (Services Australia): 8 digits starting 2-6, a
    check digit (weights 1,3,7,9,1,3,7,9, mod 10), the issue number, and optionally the
    individual reference number (1-9)."""
    if len(number) not in (10, 11) or not number.isdigit() or number[0] not in "23456":
        return False
    if len(number) == 11 and number[10] == "0":
        return False
    return _weighted(number, (1, 3, 7, 9, 1, 3, 7, 9)) % 10 == int(number[8])


def us_itin_valid(number: str) -> bool:
    """US ITIN (IRS): 9 digits starting with 9, digits 4-5 in 50-65, 70-88, 90-92 or
    94-99."""
    if len(number) != 9 or not number.isdigit() or number[0] != "9":
        return False
    group = int(number[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99
