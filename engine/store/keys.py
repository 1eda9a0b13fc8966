"""How RedisStore lays data out: real key names, the fields of coupon records and log
entries, and claim.lua's arguments. Pure functions: redis.py does the I/O, and MemoryStore
uses the same names and entry fields so that both stores read back the same values.

Under a prefix P (default `promo:`), with T a campaign's routing tag, R its ruleset id
and C its id (ids never contain `:`, `{` or `}`: LANGUAGE.md 2.3, 3.1):

    P{T}:R:C:K            a counter with logical key K (engine/quotas.py): limits,
                          stocks, budgets, pity
    P{T}:R:C:!k:N:U:KEY   the idempotency record (hash: fp, result) of user U, N = len(U),
                          so that users and keys containing `:` cannot collide
    P{T}:c:CODE           a coupon record (hash, the fields of CouponRecord); CODE starts
                          with T, so redeem and revert find it from the code alone
    P{T}:log              the issuance and redemption log (a stream, never trimmed) of the
                          campaign with tag T; redeem and revert know only the tag, and
                          entries carry ruleset and campaign, so reads filter out another
                          campaign in the rare case that two share a tag
    Pterms                frozen coupon terms by terms id (hash)
    Plists, Plists:n      the runtime lists' names (set) and change counter
    Plist:NAME            one runtime list (set)
    Ppaused, Ppaused:n    paused campaigns as `R:C` (set) and change counter
    Prulesets             ruleset ids with versions (set)
    Pversions:R           versions of R (hash: next, active, and N -> JSON)
    Pstats:R:C            refusal statistics (hash: reason -> count)

Every key of one claim, redeem or revert shares `{T}`, so each is one script call on one
Redis Cluster slot. The logical keys of the engine never start with `!`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from engine.store import ClaimStep, Counter, CouponRecord, Draw, NewCoupon, Outcome, Scope

JSON_FIELDS = "_json"  # a log entry's field listing the fields that hold JSON text
_INT_FIELDS = ("valid_from", "valid_until", "face_value")


class KeyLayout:
    """Real key names under one prefix.

    >>> KeyLayout("promo:").counter(Scope("spring", "flash", "K3Q"), "s:c30:all")
    'promo:{K3Q}:spring:flash:s:c30:all'
    """

    __slots__ = ("_bases", "prefix")

    def __init__(self, prefix: str) -> None:
        if "{" in prefix or "}" in prefix:
            # A brace in the prefix would become the hash tag and break Cluster routing.
            raise ValueError(f"a store prefix may not contain braces: {prefix!r}")
        self.prefix = prefix
        self._bases: dict[Scope, str] = {}

    def base(self, scope: Scope) -> str:
        """What every counter key of `scope` starts with."""
        base = self._bases.get(scope)
        if base is None:
            base = f"{self.prefix}{{{scope.tag}}}:{scope.ruleset}:{scope.campaign}:"
            self._bases[scope] = base
        return base

    def counter(self, scope: Scope, key: str) -> str:
        return self.base(scope) + key

    def idempotency(self, scope: Scope, user: str, key: str) -> str:
        return f"{self.base(scope)}!k:{len(user)}:{user}:{key}"

    def coupon(self, tag: str, code: str) -> str:
        return f"{self.prefix}{{{tag}}}:c:{code}"

    def log(self, tag: str) -> str:
        return f"{self.prefix}{{{tag}}}:log"

    def meta(self, *parts: str) -> str:
        """A key outside every tag: terms, lists, pause set, versions, stats."""
        return self.prefix + ":".join(parts)

    def pattern(self) -> str:
        """A SCAN MATCH pattern for every key under the prefix, glob characters escaped."""
        escaped = "".join("\\" + ch if ch in "*?[]\\" else ch for ch in self.prefix)
        return escaped + "*"


class KeyList:
    """The KEYS of one script call: each real key once, named in ARGV by its 1-based index."""

    __slots__ = ("_index",)

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def add(self, key: str) -> int:
        return self._index.setdefault(key, len(self._index) + 1)

    @property
    def keys(self) -> list[str]:
        return list(self._index)  # dicts keep insertion order: index i is keys[i - 1]


def coupon_fields(scope: Scope, owner: str, coupon: NewCoupon) -> list[str]:
    """A new coupon's record as flat hash fields (HSET key f1 v1 f2 v2 ...)."""
    return [
        "code", coupon.code, "ruleset", scope.ruleset, "campaign", scope.campaign,
        "reward", coupon.reward, "owner", owner, "terms", coupon.terms,
        "valid_from", str(coupon.valid_from), "valid_until", str(coupon.valid_until),
        "face_value", str(coupon.face_value), "state", "issued",
    ]  # fmt: skip


def coupon_record(fields: Mapping[str, str]) -> CouponRecord:
    """A coupon record from its hash fields."""
    ints = {name: int(fields[name]) for name in _INT_FIELDS}
    amount = fields.get("amount")
    return CouponRecord(
        code=fields["code"], ruleset=fields["ruleset"], campaign=fields["campaign"],
        reward=fields["reward"], owner=fields["owner"], terms=fields["terms"],
        state="redeemed" if fields["state"] == "redeemed" else "issued",
        order=fields.get("order"), amount=int(amount) if amount is not None else None, **ints,
    )  # fmt: skip


def pairs(flat: list[str]) -> dict[str, str]:
    """[f1, v1, f2, v2, ...] (HGETALL as a script returns it) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def encode_entry(fields: Mapping[str, Any], json_also: tuple[str, ...] = ()) -> list[str]:
    """A log entry as flat stream fields. Strings are kept as they are; other values
    (numbers, lists, mappings, booleans, None) become JSON text, named in `_json` so that
    reads give back what was written. `json_also` names fields a script appends."""
    flat: list[str] = []
    json_names = list(json_also)
    for name, value in fields.items():
        flat.append(name)
        if isinstance(value, str):
            flat.append(value)
        else:
            flat.append(orjson.dumps(value).decode())
            json_names.append(name)
    if json_names:
        flat += (JSON_FIELDS, orjson.dumps(json_names).decode())
    return flat


def decode_entry(entry_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """A log entry as read: its id, then its fields with JSON text decoded."""
    entry: dict[str, Any] = {"id": entry_id}
    entry.update(fields)
    names = entry.pop(JSON_FIELDS, None)
    for name in orjson.loads(names) if names else ():
        entry[name] = orjson.loads(entry[name])
    return entry


# Fields a redeem or revert script appends to its log entry, from the coupon's record.
RECORD_ENTRY_FIELDS = ("ruleset", "campaign", "reward", "user", "amount", "order")


def claim_entry(step: ClaimStep, outcome: Outcome, now: int) -> dict[str, Any]:
    """The log entry of a claim ending in `outcome` (before the draw, which the store adds)."""
    scope = step.scope
    fields = {**step.log, **outcome.log}
    fields.update(type="claim", time=now, ruleset=scope.ruleset, campaign=scope.campaign)
    return fields


def coupon_entry(kind: str, code: str, log: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The part of a redeem or revert entry known before the record is read; the store
    then appends RECORD_ENTRY_FIELDS, which therefore the caller cannot set."""
    fields = {name: value for name, value in log.items() if name not in RECORD_ENTRY_FIELDS}
    fields.update(type=kind, time=now, code=code)
    return fields


# The arguments of claim.lua (see its header): every key in KEYS once, the rest as one JSON.


def claim_args(layout: KeyLayout, step: ClaimStep, now: int) -> tuple[list[str], bytes]:
    """KEYS and ARGV[1] of claim.lua for `step`."""
    keys, scope = KeyList(), step.scope
    record = layout.idempotency(scope, step.user, step.key) if step.key else None
    args = {
        "now": now, "fp": step.fingerprint, "kttl": ttl(step.key_expires_at, now),
        "key": keys.add(record) if record else 0, "refusal": step.refusal or "",
        "log": keys.add(layout.log(scope.tag)),
        "checks": _counters(keys, layout.base(scope), step.checks, now),
        "outcomes": [_outcome(layout, keys, step, o, now) for o in step.outcomes],
        "draw": _draw(layout, keys, scope, step.draw, now),
    }  # fmt: skip
    return keys.keys, orjson.dumps(args)


def ttl(expires_at: int, now: int) -> int:
    """A relative TTL (engine time may differ from the server's clock); 0 for none. At
    least 1 second, since a zero or negative EXPIRE would delete what was just written."""
    return max(expires_at - now, 1) if expires_at > 0 else 0


def _counters(keys: KeyList, base: str, counters: Sequence[Counter], now: int) -> list[Any]:
    add = keys.add
    return [
        # ttl() inlined: this runs for every counter of every claim.
        [add(base + c.key), c.limit, c.amount, c.reason,
         max(c.expires_at - now, 1) if c.expires_at > 0 else 0]
        for c in counters
    ]  # fmt: skip


def _outcome(layout: KeyLayout, keys: KeyList, step: ClaimStep, o: Outcome, now: int) -> Any:
    scope, lottery = step.scope, step.draw is not None
    encoded: dict[str, Any] = {
        "w": o.weight, "c": _counters(keys, layout.base(scope), (*o.counters, *o.budget), now),
        "cp": [[keys.add(layout.coupon(scope.tag, c.code)), *coupon_fields(scope, step.user, c)]
               for c in o.coupons],
        "f": encode_entry(claim_entry(step, o, now), ("draw",) if lottery else ()),
    }  # fmt: skip
    if lottery:
        encoded["pz"] = orjson.dumps(o.prize).decode()
    if step.key is not None:
        encoded["r"] = o.result  # stored under the key, for replays
    return encoded


def _draw(layout: KeyLayout, keys: KeyList, scope: Scope, draw: Draw | None, now: int) -> Any:
    if draw is None:
        return False
    g = draw.guarantee
    return {
        # u goes as a number and as its JSON text, which the log entry repeats exactly.
        "u": draw.u, "ut": orjson.dumps(draw.u).decode(), "other": draw.otherwise,
        "g": g + 1 if g is not None else 0, "after": draw.after,
        "pity": keys.add(layout.counter(scope, draw.pity_key)) if g is not None else 0,
        "pttl": ttl(draw.pity_expires_at, now),
    }  # fmt: skip
