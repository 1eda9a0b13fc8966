"""API keys: `PROMO_API_KEYS="storefront:KEY,operator:KEY2,..."`, sent as
`Authorization: Bearer KEY`.

Storefront keys reach the storefront endpoints; operator keys reach everything. Keys are
compared in constant time and never logged or echoed. With no keys configured the
service is open (every caller is an operator): `promo serve` allows that only on a
loopback address (serve.py).

    keys = Keys.parse("storefront:s3cret-storefront-key,operator:s3cret-operator-key")
    keys.check(b"Bearer s3cret-storefront-key", "storefront")  # passes
"""

from __future__ import annotations

import hmac
from typing import Literal

from api.errors import ApiError

Role = Literal["storefront", "operator"]
ROLES: tuple[Role, ...] = ("storefront", "operator")
MIN_KEY_LENGTH = 16  # a short key is guessable; refuse it rather than serve with it
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="promo-engine"'}


class KeyConfigError(ValueError):
    """PROMO_API_KEYS is malformed (the message says how, never showing a key)."""


class Keys:
    __slots__ = ("_keys", "_known")
    _MAX_KNOWN = 64  # headers that passed; a full table is cleared and refilled on demand

    def __init__(self, keys: list[tuple[Role, bytes]]) -> None:
        self._keys = tuple(keys)
        # Authorization headers, byte for byte, that matched a key: their role. Only a
        # header that already passed the constant-time comparison is found here, and
        # finding it takes a hash of the header that any request pays alike; every
        # other header is compared with every key as before.
        self._known: dict[bytes, Role] = {}

    @classmethod
    def parse(cls, text: str) -> Keys:
        """Keys from `role:key,role:key`; raises KeyConfigError on a malformed entry."""
        keys: list[tuple[Role, bytes]] = []
        for n, entry in enumerate((e.strip() for e in text.split(",")), 1):
            if not entry:
                continue
            role, sep, key = entry.partition(":")
            role = role.strip()
            if not sep or role not in ROLES:
                raise KeyConfigError(
                    f"PROMO_API_KEYS entry {n} must read 'storefront:KEY' or 'operator:KEY'"
                )
            if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
                raise KeyConfigError(
                    f"PROMO_API_KEYS entry {n} ({role}): a key needs at least "
                    f"{MIN_KEY_LENGTH} characters and no spaces"
                )
            keys.append((role, key.encode()))
        return cls(keys)

    @property
    def open(self) -> bool:
        """No keys configured: the local open mode."""
        return not self._keys

    def role_of(self, authorization: bytes | None) -> Role | None:
        """The role of the presented Bearer key, or None. Every configured key is
        compared, whatever matched, so the time taken says nothing about the keys."""
        if authorization is None:
            return None
        known = self._known.get(authorization)
        if known is not None:
            return known
        scheme, _, token = authorization.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not token:
            return None
        token = token.strip()
        found: Role | None = None
        for role, key in self._keys:
            if hmac.compare_digest(token, key) and found != "operator":
                found = role
        if found is not None:
            if len(self._known) >= self._MAX_KNOWN:
                self._known.clear()
            self._known[authorization] = found
        return found

    def check(self, authorization: bytes | None, need: Role) -> None:
        """Raise the 401 or 403 problem unless the caller may reach a `need` endpoint."""
        if not self._keys:
            return
        role = self.role_of(authorization)
        if role is None:
            detail = (
                "send an API key as 'Authorization: Bearer KEY'"
                if authorization is None
                else "the API key is not valid"
            )
            raise ApiError("unauthorized", detail, headers=_CHALLENGE)
        if need == "operator" and role != "operator":
            raise ApiError("forbidden", "this endpoint needs an operator key")


def authorization(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The raw Authorization header of an ASGI scope, without building a Headers object."""
    for name, value in headers:
        if name == b"authorization":
            return value
    return None
