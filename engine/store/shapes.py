"""Claim shapes: what every claim of one reward (or lottery) shares within one engine second.

A claim step is mostly the same from one claim to the next: the same quotas with the same
period ids, the same coupons with the same validity, the same outcomes. Only a few values
are the claim's own: its user, device, IP and invitee (which end some counters' keys), its
codes, claim id, results and log entry. The engine makes one `ClaimShape` per reward and
second (engine/claims.py) and steps that point to it (`ClaimStep.planned`), so that

- a step costs only its own values to make; its `checks` and `outcomes` are made from the
  shape on first read (MemoryStore reads them);
- a store may encode a shape once and fill in each claim's values (RedisStore keeps its
  encoding of claim.lua's arguments in `ClaimShape.encodings`: engine/store/claim_wire.py).

Shapes are made per second and dropped with it; treat them as immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.store import Counter, NewCoupon, Outcome, Scope

# Which of the claim's own values ends a counter's key (`ClaimValues` order).
USER, DEVICE, IP, INVITEE = 0, 1, 2, 3


@dataclass(slots=True, eq=False)
class LimitSlot:
    """A counter whose key is `head` followed by one of the claim's values (`source`): a
    user, device or IP limit, or the invitee's one-time reward. An empty value cannot be
    counted: the claim then has `unknown` instead (a counter without room), if given."""

    source: int
    head: str
    limit: int
    amount: int
    reason: str
    expires_at: int
    unknown: Counter | None = None

    def counter(self, values: tuple[str, str, str, str]) -> Counter:
        return self.with_value(values[self.source])

    def with_value(self, value: str) -> Counter:
        if not value and self.unknown is not None:
            return self.unknown
        return Counter(self.head + value, self.limit, self.amount, self.reason, self.expires_at)


@dataclass(slots=True, eq=False)
class CouponShape:
    """A coupon an outcome issues, all but its code."""

    reward: str
    terms: str
    valid_from: int
    valid_until: int
    face_value: int

    def issue(self, code: str) -> NewCoupon:
        return NewCoupon(
            code, self.reward, self.terms, self.valid_from, self.valid_until, self.face_value
        )


@dataclass(slots=True, eq=False)
class OutcomeShape:
    """An outcome (`Outcome`) but its codes and result. Its coupons take the claim's codes
    from `first` on. `name` and `face_value` are what the log entry records."""

    prize: str | None
    weight: int
    counters: tuple[Counter, ...]
    budget: tuple[Counter, ...]
    coupons: tuple[CouponShape, ...]
    first: int
    name: str
    face_value: int

    def codes(self, codes: tuple[str, ...]) -> tuple[str, ...]:
        return codes[self.first : self.first + len(self.coupons)]

    def outcome(self, codes: tuple[str, ...], result: str) -> Outcome:
        mine = self.codes(codes)
        coupons = tuple([c.issue(code) for c, code in zip(self.coupons, mine, strict=True)])
        log = {"reward": self.name, "codes": list(mine), "face_value": self.face_value}
        return Outcome(self.prize, self.weight, self.counters, self.budget, coupons, result, log)


@dataclass(slots=True, eq=False)
class ClaimShape:
    """The shared part of the claim steps of one reward (or lottery) at one second `now`:
    `checks` in the order of ClaimStep.checks, with a `LimitSlot` where a claim's value
    ends the key; `outcomes` in outcome order. Hashed by identity."""

    scope: Scope
    now: int
    checks: tuple[LimitSlot | Counter, ...]
    outcomes: tuple[OutcomeShape, ...]
    key_expires_at: int
    encodings: dict[Any, Any] = field(default_factory=dict)  # a store's own, by its key

    def counters(self, values: tuple[str, str, str, str]) -> tuple[Counter, ...]:
        return tuple([c.counter(values) if isinstance(c, LimitSlot) else c for c in self.checks])
