"""claim.lua's KEYS and ARGV for a planned claim step, from a template of its shape.

`keys.claim_args` encodes any claim step field by field. A planned step
(`ClaimStep.planned`) shares everything but a few values with every other claim of its
shape, so RedisStore encodes the shape once (a `ClaimTemplate`, kept in
`ClaimShape.encodings`) and each claim only fills in its own: the user, device, IP and
invitee that end some counter keys, the idempotency key, the codes, the owner, the log
entries, the results and the draw. It is the same encoding as `claim_args` (the tests
compare the two on every kind of campaign), at a fraction of the work per claim.

Keys are numbered as `claim_args` numbers them: each distinct key once, in the order the
script meets them. Whether two keys of a claim are the same key follows from the shape
alone, except where an empty device or IP turns a limit into its `unknown` counter, or
a draw has no pity counter: those are part of the template's cache key (`variant`).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import orjson

from engine.store import ClaimStep
from engine.store.keys import JSON_FIELDS, KeyLayout, ttl
from engine.store.shapes import ClaimShape, LimitSlot

# What a hole of a template takes from the claim; 0 to 3 are ClaimStep.values indexes.
_IDEMPOTENCY, _CODE, _PITY = 4, 5, 6  # in KEYS
_FP, _OWNER, _ENTRY, _RESULT, _DRAW = 7, 8, 9, 10, 11  # in ARGV[1], as JSON values
_DRAW_IS_JSON = orjson.dumps(["draw"]).decode()
_SENTINEL = re.compile(r'"\\u0000(\d+)\\u0000"')


def variant(step: ClaimStep) -> int:
    """What decides a planned step's encoding besides its shape: with a key or not, an
    empty user, device or IP, a draw, a draw with a pity counter."""
    user, device, ip, _ = step.values
    draw = step.draw
    return (
        (step.key is not None)
        | (not user) << 1 | (not device) << 2 | (not ip) << 3
        | (draw is not None and draw.guarantee is not None) << 4 | (draw is not None) << 5
    )  # fmt: skip


def planned_args(layout: KeyLayout, step: ClaimStep) -> tuple[list[str], bytes]:
    """KEYS and ARGV[1] of claim.lua for a planned step at its shape's second."""
    shape = step.shape
    assert shape is not None
    which = variant(step)
    template = shape.encodings.get(which)
    if template is None or template.layout is not layout:  # one store per engine, as a rule
        template = shape.encodings[which] = ClaimTemplate(layout, shape, which)
    return template.render(step)


class ClaimTemplate:
    """The encoding of one shape and variant: KEYS with holes for the claim's own keys,
    and ARGV[1] as JSON text in chunks between the claim's own values."""

    __slots__ = ("_chunks", "_entries", "_holes", "_key_holes", "_keys", "_now", "_pity", "layout")

    def __init__(self, layout: KeyLayout, shape: ClaimShape, which: int) -> None:
        scope, now = shape.scope, shape.now
        self.layout = layout
        base = layout.base(scope)
        has_key, lottery = bool(which & 1), bool(which & 32)
        empty = (bool(which & 2), bool(which & 4), bool(which & 8))
        index: dict[Hashable, int] = {}
        self._keys: list[str] = []
        self._key_holes: list[tuple[int, int, int, str]] = []  # position, what, which code, head

        def at(symbol: Hashable, text: str = "", what: int = -1, arg: int = 0) -> int:
            """The KEYS index of a key: `text`, or `what` of the claim after head `text`."""
            found = index.get(symbol)
            if found is None:
                found = index[symbol] = len(index) + 1
                self._keys.append(text if what < 0 else "")
                if what >= 0:
                    self._key_holes.append((found - 1, what, arg, text))
            return found

        holes: list[tuple[int, int]] = []

        def hole(what: int, arg: int = 0) -> str:
            holes.append((what, arg))
            return f"\x00{len(holes) - 1}\x00"

        def run(i: int, limit: int, amount: int, reason: str, expires: int) -> list[Any]:
            return [i, limit, amount, reason, ttl(expires, now)]

        at("log", layout.log(scope.tag))
        if has_key:
            at("key", base + "!k:", _IDEMPOTENCY)
        checks: list[Any] = []
        for check in shape.checks:
            if isinstance(check, LimitSlot) and (check.unknown is None or not empty[check.source]):
                i = at(("slot", check.source, check.head), base + check.head, check.source)
                checks += run(i, check.limit, check.amount, check.reason, check.expires_at)
            else:
                counter = check if not isinstance(check, LimitSlot) else check.unknown
                assert counter is not None
                i = at(base + counter.key, base + counter.key)
                checks += run(i, counter.limit, counter.amount, counter.reason, counter.expires_at)
        coupon_head = layout.coupon(scope.tag, "")
        outcomes = []
        self._entries: list[tuple[int, int, str, str]] = []  # first code, codes, around them
        for n, o in enumerate(shape.outcomes):
            coupons = []
            for j, coupon in enumerate(o.coupons):
                i = at(("code", o.first + j), coupon_head, _CODE, o.first + j)
                # keys.coupon_fields, with the code and the owner as holes
                coupons.append([
                    i, "code", hole(_CODE, o.first + j), "ruleset", scope.ruleset,
                    "campaign", scope.campaign, "reward", coupon.reward, "owner", hole(_OWNER),
                    "terms", coupon.terms, "valid_from", str(coupon.valid_from),
                    "valid_until", str(coupon.valid_until), "face_value", str(coupon.face_value),
                    "state", "issued",
                ])  # fmt: skip
            counters: list[Any] = []
            for c in (*o.counters, *o.budget):
                i = at(base + c.key, base + c.key)
                counters += run(i, c.limit, c.amount, c.reason, c.expires_at)
            # keys.packed_entry, with the entry as a hole
            fields = ["type", "claim", "ruleset", scope.ruleset, "campaign", scope.campaign,
                      "_e", hole(_ENTRY, n)]  # fmt: skip
            encoded: dict[str, Any] = {"w": o.weight, "c": counters, "cp": coupons, "f": fields}
            if lottery:
                fields += (JSON_FIELDS, _DRAW_IS_JSON)
                encoded["pz"] = orjson.dumps(o.prize).decode()
            if has_key:
                encoded["r"] = hole(_RESULT, n)
            outcomes.append(encoded)
            name = orjson.dumps(o.name).decode()
            after = f'],"face_value":{o.face_value}}}'
            self._entries.append((o.first, len(o.coupons), f',"reward":{name},"codes":[', after))
        self._pity = at("pity", base, _PITY) if which & 16 else 0
        args = {  # keys.claim_args
            "fp": hole(_FP), "kttl": ttl(shape.key_expires_at, now), "key": 2 if has_key else 0,
            "refusal": "", "log": 1, "checks": checks, "outcomes": outcomes,
            "draw": hole(_DRAW) if lottery else False,
        }  # fmt: skip
        # Holes go into the JSON as strings "\x00N\x00", which orjson writes as below and
        # which no id, reason or terms id can contain. Split the text there, in text order.
        parts = _SENTINEL.split(orjson.dumps(args).decode())
        self._chunks = [chunk.encode() for chunk in parts[::2]]
        self._holes = [holes[int(n)] for n in parts[1::2]]
        self._now = now

    def render(self, step: ClaimStep) -> tuple[list[str], bytes]:
        values, codes, user = step.values, step.codes, step.user
        keys = self._keys.copy()
        for position, what, arg, head in self._key_holes:
            if what < 4:
                keys[position] = head + values[what]
            elif what == _CODE:
                keys[position] = head + codes[arg]
            elif what == _IDEMPOTENCY:
                keys[position] = f"{head}{len(user)}:{user}:{step.key}"  # KeyLayout.idempotency
            else:
                assert step.draw is not None
                keys[position] = head + step.draw.pity_key
        # In bytes, as orjson writes them: no decoding of each part, no encoding of the whole.
        dumps, chunks = orjson.dumps, self._chunks
        out = [chunks[0]]
        owner = entry = b""
        for n, (what, arg) in enumerate(self._holes, 1):
            if what == _CODE:
                out.append(b'"%s"' % codes[arg].encode())
            elif what == _OWNER:
                owner = owner or dumps(user)
                out.append(owner)
            elif what == _ENTRY:
                entry = entry or dumps(step.log)[:-1]  # its fields: see ClaimStep.planned
                first, count, before, after = self._entries[arg]
                mine = '","'.join(codes[first : first + count])
                text = f'{before}"{mine}"{after}' if count else f"{before}{after}"
                out.append(dumps(entry.decode() + text))
            elif what == _RESULT:
                out.append(dumps(step.results[arg]))
            elif what == _FP:
                out.append(dumps(step.fingerprint))
            else:
                out.append(self._draw(step))
            out.append(chunks[n])
        return keys, b"".join(out)

    def _draw(self, step: ClaimStep) -> bytes:
        d = step.draw
        assert d is not None
        g = d.guarantee
        return orjson.dumps({  # keys._draw
            "u": d.u, "ut": orjson.dumps(d.u).decode(), "other": d.otherwise,
            "g": g + 1 if g is not None else 0, "after": d.after, "pity": self._pity,
            "pttl": ttl(d.pity_expires_at, self._now),
        })  # fmt: skip
