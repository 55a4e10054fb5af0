"""Traceability codes: "KF" + 10 Crockford base32 characters + 1 check character (pure).

The check character is Damm's scheme over the quasigroup x∘y = 2·x + y in GF(32) (a totally
anti-symmetric quasigroup), i.e. the characters' values weighted by distinct powers of 2 must sum
to zero. Any single mistyped character and any swap of two characters (adjacent or not) changes
that sum, so a typo is refused, never read as another item's code.
"""

from __future__ import annotations

import hashlib

from service_runtime.errors import DomainError

PREFIX = "KF"
BODY_LENGTH = 10
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
VALUES = {char: value for value, char in enumerate(ALPHABET)}
# Crockford's reading of look-alikes: what a person may type for 1 and 0.
LOOK_ALIKES = {"I": "1", "L": "1", "O": "0"}
CODE_LENGTH = len(PREFIX) + BODY_LENGTH + 1
# What a code looks like (letters in either case); the check character is verified by
# parse_code, which a pattern cannot express.
CODE_PATTERN = r"^[Kk][Ff][0-9A-Za-z]{11}$"
FIELD_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1, irreducible: GF(32)


class InvalidCode(DomainError):
    pass


def _times_two(value: int) -> int:
    value <<= 1
    return value ^ FIELD_POLYNOMIAL if value & 0b100000 else value


def _interim(chars: str) -> int:
    interim = 0
    for char in chars:
        interim = _times_two(interim) ^ VALUES[char]
    return interim


def check_character(body: str) -> str:
    """The character that brings the body's Damm interim to zero."""
    return ALPHABET[_times_two(_interim(body))]


def code_for(*parts: object) -> str:
    """The code derived from what identifies an item (the same parts give the same code)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * BODY_LENGTH)
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(BODY_LENGTH)))
    return PREFIX + body + check_character(body)


def normalise(text: str) -> str:
    cleaned = "".join(text.split()).replace("-", "").upper()
    if not cleaned.startswith(PREFIX):
        return cleaned
    return PREFIX + "".join(LOOK_ALIKES.get(char, char) for char in cleaned[len(PREFIX):])


def parse_code(text: str) -> str:
    """The code in canonical form, or a 422 saying what is wrong with it."""
    code = normalise(text)
    shape = f"a traceability code is {PREFIX} followed by {BODY_LENGTH + 1} characters from {ALPHABET}"
    if not code.startswith(PREFIX) or len(code) != CODE_LENGTH:
        raise InvalidCode(f"'{text[:40]}' is not a traceability code: {shape}")
    rest = code[len(PREFIX):]
    wrong = sorted({char for char in rest if char not in VALUES})
    if wrong:
        raise InvalidCode(f"'{text[:40]}' is not a traceability code: {', '.join(wrong)} cannot appear; {shape}")
    if _interim(rest) != 0:
        raise InvalidCode(f"{code}: the check character is wrong, so the code was mistyped; "
                          "please check every character and enter it again")
    return code
