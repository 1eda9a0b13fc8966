"""Coupon codes (LANGUAGE.md 10.2 "Codes"): unguessable, unambiguous, self-checking.

A code is 20 characters of Crockford base32, upper case:

    TTT RRRRRRRRRRRRRRRR C
    tag 80 random bits   check symbol

- `TTT`, the routing tag, is derived from the campaign id. It is also the Redis hash tag
  of every key of the campaign, so redeem and revert find the coupon's slot from the code
  alone (engine/store/__init__.py).
- 16 characters carry 80 bits from `secrets`.
- The check symbol is Crockford's: the value of the first 19 characters mod 37, written
  in the 37-symbol check alphabet. A mistyped code fails `is_well_formed` and is refused as
  `unknown_code` without a store round trip.

Codes compare exactly: only the canonical upper-case form is well formed.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
TAG_LENGTH = 3
RANDOM_LENGTH = 16
CODE_LENGTH = TAG_LENGTH + RANDOM_LENGTH + 1

_RANDOM_BITS = 5 * RANDOM_LENGTH
_TAG_BITS = 5 * TAG_LENGTH
# Crockford digits -> the digits int(..., 32) reads (0-9 a-v), to get a code's value in C.
_TO_BASE32 = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")
_WELL_FORMED = re.compile(r"[0-9A-HJKMNP-TV-Z]{19}[0-9A-HJKMNP-TV-Z*~$=U]")


# Every pair of digits, by the 10 bits they encode: 80 bits are 8 lookups.
_PAIRS = tuple(a + b for a in ALPHABET for b in ALPHABET)


def base32_pairs() -> tuple[str, ...]:
    return _PAIRS


def base32_80(value: int) -> str:
    """16 Crockford digits of an 80-bit value, most significant first: four 20-bit
    chunks (small ints, cheaper to shift than the 80-bit one), two pair lookups each.
    A claim writes two of these; a digit-by-digit loop costs 4x as much.

    >>> base32_80(1), base32_80((1 << 80) - 1)
    ('0000000000000001', 'ZZZZZZZZZZZZZZZZ')
    """
    p = _PAIRS
    a, b, c, d = value >> 60, (value >> 40) & _M20, (value >> 20) & _M20, value & _M20
    return (
        f"{p[a >> 10]}{p[a & 1023]}{p[b >> 10]}{p[b & 1023]}"
        f"{p[c >> 10]}{p[c & 1023]}{p[d >> 10]}{p[d & 1023]}"
    )


_M20 = (1 << 20) - 1


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _check_symbol(body: str) -> str:
    return CHECK_ALPHABET[int(body.translate(_TO_BASE32), 32) % 37]


def route_tag(campaign_id: str) -> str:
    """The campaign's 3-character routing tag (15 bits of a BLAKE2b digest of its id).

    >>> len(route_tag("flash_coupon")), route_tag("flash_coupon") == route_tag("flash_coupon")
    (3, True)
    """
    digest = hashlib.blake2b(campaign_id.encode(), digest_size=8).digest()
    return _encode(int.from_bytes(digest, "big") >> (64 - _TAG_BITS), TAG_LENGTH)


def new_code(tag: str, random80: int | None = None) -> str:
    """A fresh code for a coupon of the campaign with routing tag `tag`: its 80 random
    bits are `random80`, or fresh ones from `secrets`.

    >>> new_code("K3Q", 0)
    'K3Q0000000000000000Z'
    """
    if random80 is None:
        random80 = secrets.randbits(_RANDOM_BITS)
    # The check symbol of the body's value, tag * 32^16 + random: the same number that
    # _check_symbol reads back from the text, without parsing it.
    check = CHECK_ALPHABET[((_tag_value(tag) << _RANDOM_BITS) | random80) % 37]
    return tag + base32_80(random80) + check


_TAG_VALUES: dict[str, int] = {}


def _tag_value(tag: str) -> int:
    value = _TAG_VALUES.get(tag)
    if value is None:
        value = _TAG_VALUES[tag] = int(tag.translate(_TO_BASE32), 32)
    return value


def is_well_formed(code: str) -> bool:
    """Whether `code` has the length, alphabet and check symbol of an issued code.

    >>> is_well_formed(new_code(route_tag("c"))), is_well_formed("T4KX9M2QH7RW3ZPB")
    (True, False)
    """
    if len(code) != CODE_LENGTH or _WELL_FORMED.fullmatch(code) is None:
        return False
    return _check_symbol(code[:-1]) == code[-1]


def tag_of(code: str) -> str:
    """The routing tag a code starts with."""
    return code[:TAG_LENGTH]
