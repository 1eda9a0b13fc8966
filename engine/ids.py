"""Claim ids: time-ordered and unique, like a ULID (48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import secrets

from engine.codes import base32_80, base32_pairs

_TIME_LENGTH = 10  # characters: 50 bits, the 48 of the milliseconds and two zero bits
_last: list[tuple[int, str]] = [(-1, "")]


def claim_id_time(now: int) -> str:
    """The first 10 characters of every claim id of second `now`. Cached: the claims of
    one second share it, and encoding it costs more than the random part."""
    at, text = _last[0]
    if at != now:
        millis = (now * 1000) & ((1 << 48) - 1)
        pairs = base32_pairs()
        text = "".join(pairs[(millis >> shift) & 1023] for shift in (40, 30, 20, 10, 0))
        _last[0] = (now, text)
    return text


def new_claim_id(now: int, random80: int | None = None) -> str:
    """26 Crockford base32 characters that sort by claim time (the engine clock's second):
    the time, then 80 random bits (`random80`, or fresh ones from `secrets`).

    >>> len(new_claim_id(1_762_826_400)), new_claim_id(0, 0)
    (26, '00000000000000000000000000')
    """
    if random80 is None:
        random80 = secrets.randbits(80)
    return claim_id_time(now) + base32_80(random80)
