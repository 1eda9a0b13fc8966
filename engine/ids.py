"""Claim ids: time-ordered and unique, like a ULID (48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import base64
import secrets

# RFC 4648 base32 to Crockford's alphabet, which sorts in the same order as the values.
_TO_CROCKFORD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


def new_claim_id(now: int) -> str:
    """26 Crockford base32 characters that sort by claim time (the engine clock's second).

    >>> len(new_claim_id(1_762_826_400))
    26
    """
    millis = (now * 1000) & ((1 << 48) - 1)
    # 128 bits as 26 characters of 5 bits (130 bits, the top two zero), as a ULID does:
    # placed at the start of 17 bytes, so that the first 26 base32 characters are exactly it.
    value = (millis << 80) | secrets.randbits(80)
    text = base64.b32encode((value << 6).to_bytes(17, "big")).decode("ascii")
    return text[:26].translate(_TO_CROCKFORD)
