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
                          campaign in the rare case that two share a tag. A claim's entry
                          is `type`, `ruleset`, `campaign` and `_e`, the whole entry as one
                          JSON object (`packed_entry`); others are flat fields, with `_json`
                          naming those that hold JSON text (`encode_entry`)
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
PACKED = "_e"  # a log entry's field holding the entry as one JSON object
_DRAW_IS_JSON = orjson.dumps(["draw"]).decode()
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
        if type(value) is str:  # exact: a str subclass goes as JSON, and reads back as str
            flat += (name, value)
        else:
            flat += (name, orjson.dumps(value).decode())
            json_names.append(name)
    if json_names:
        flat += (JSON_FIELDS, orjson.dumps(json_names).decode())
    return flat


def packed_entry(fields: Mapping[str, Any]) -> list[str]:
    """A claim's log entry as stream fields: `type`, `ruleset` and `campaign` on their own
    (what reads filter on, and what a person scanning the stream looks for), and the
    whole entry as one JSON object. One orjson call instead of a field-by-field loop, and a
    3-field XADD instead of a 13-field one: a claim writes one of these."""
    return [
        "type", fields["type"], "ruleset", fields["ruleset"], "campaign", fields["campaign"],
        PACKED, orjson.dumps(fields).decode(),
    ]  # fmt: skip


def decode_entry(entry_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """A log entry as read: its id, then its fields with JSON text decoded."""
    entry: dict[str, Any] = {"id": entry_id}
    entry.update(fields)
    packed = entry.pop(PACKED, None)
    if packed:
        entry.update(orjson.loads(packed))
    names = entry.pop(JSON_FIELDS, None)
    for name in orjson.loads(names) if names else ():
        entry[name] = orjson.loads(entry[name])
    return entry


# Fields a redeem or revert script appends to its log entry, from the coupon's record.
RECORD_ENTRY_FIELDS = ("ruleset", "campaign", "reward", "user", "amount", "order")


def claim_entry(step: ClaimStep, outcome: Outcome, now: int) -> dict[str, Any]:
    """The log entry of a claim ending in `outcome` (before the draw, which the store adds)."""
    scope = step.scope
    # One display, no update(): keys already in step.log keep their place, as update keeps it.
    return {
        **step.log, **outcome.log,
        "type": "claim", "time": now, "ruleset": scope.ruleset, "campaign": scope.campaign,
    }  # fmt: skip


def coupon_entry(kind: str, code: str, log: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The part of a redeem or revert entry known before the record is read; the store
    then appends RECORD_ENTRY_FIELDS, which therefore the caller cannot set."""
    fields = {name: value for name, value in log.items() if name not in RECORD_ENTRY_FIELDS}
    fields.update(type=kind, time=now, code=code)
    return fields


# The arguments of claim.lua (see its header): every key in KEYS once, the rest as one JSON.
# This runs for every claim, so it builds plain lists in one pass: counters as flat runs of
# five values (one Lua table per step, not one per counter), keys numbered by a dict.


def claim_args(layout: KeyLayout, step: ClaimStep, now: int) -> tuple[list[str], bytes]:
    """KEYS and ARGV[1] of claim.lua for `step`."""
    scope = step.scope
    base = layout.base(scope)
    index: dict[str, int] = {layout.log(scope.tag): 1}
    record = 0
    if step.key:
        # KeyLayout.idempotency, with the base already at hand
        record = index[f"{base}!k:{len(step.user)}:{step.user}:{step.key}"] = 2
    args = {
        "fp": step.fingerprint, "kttl": ttl(step.key_expires_at, now), "key": record,
        "refusal": step.refusal or "", "log": 1,
        "checks": _counters(index, base, step.checks, now),
        "outcomes": [_outcome(layout, index, base, step, o, now) for o in step.outcomes],
        "draw": _draw(layout, index, scope, step.draw, now),
    }  # fmt: skip
    return list(index), orjson.dumps(args)


def ttl(expires_at: int, now: int) -> int:
    """A relative TTL (engine time may differ from the server's clock); 0 for none. At
    least 1 second, since a zero or negative EXPIRE would delete what was just written."""
    return max(expires_at - now, 1) if expires_at > 0 else 0


def _counters(index: dict[str, int], base: str, counters: Sequence[Counter], now: int) -> list[Any]:
    flat: list[Any] = []
    for c in counters:
        at = index.setdefault(base + c.key, len(index) + 1)
        # ttl() inlined: this runs for every counter of every claim.
        expires = c.expires_at
        flat += (at, c.limit, c.amount, c.reason, max(expires - now, 1) if expires > 0 else 0)
    return flat


def _outcome(
    layout: KeyLayout, index: dict[str, int], base: str, step: ClaimStep, o: Outcome, now: int
) -> dict[str, Any]:
    scope, lottery = step.scope, step.draw is not None
    coupons = []
    for c in o.coupons:
        at = index.setdefault(layout.coupon(scope.tag, c.code), len(index) + 1)
        coupons.append([at, *coupon_fields(scope, step.user, c)])
    encoded: dict[str, Any] = {
        "w": o.weight, "c": _counters(index, base, (*o.counters, *o.budget), now),
        "cp": coupons, "f": packed_entry(claim_entry(step, o, now)),
    }  # fmt: skip
    if lottery:  # the script appends the draw as a field of JSON text
        encoded["f"] += (JSON_FIELDS, _DRAW_IS_JSON)
        encoded["pz"] = orjson.dumps(o.prize).decode()
    if step.key is not None:
        encoded["r"] = o.result  # stored under the key, for replays
    return encoded


def _draw(
    layout: KeyLayout, index: dict[str, int], scope: Scope, draw: Draw | None, now: int
) -> Any:
    if draw is None:
        return False
    g = draw.guarantee
    pity = 0
    if g is not None:
        key = layout.counter(scope, draw.pity_key)
        pity = index[key] = index.get(key, len(index) + 1)
    return {
        # u goes as a number and as its JSON text, which the log entry repeats exactly.
        "u": draw.u, "ut": orjson.dumps(draw.u).decode(), "other": draw.otherwise,
        "g": g + 1 if g is not None else 0, "after": draw.after, "pity": pity,
        "pttl": ttl(draw.pity_expires_at, now),
    }  # fmt: skip
