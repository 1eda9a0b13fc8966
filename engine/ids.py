"""Claim ids: time-ordered and unique, like a ULID (48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import secrets

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_claim_id(now: int) -> str:
    """26 Crockford base32 characters that sort by claim time (the engine clock's second).

    >>> len(new_claim_id(1_762_826_400))
    26
    """
    millis = (now * 1000) & ((1 << 48) - 1)
    return _base32(millis, 10) + _base32(secrets.randbits(80), 16)
