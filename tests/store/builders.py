"""Small builders for store steps, so that each test shows only what it is about."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from engine.store import ClaimStep, Counter, Draw, NewCoupon, Outcome, RedeemStep, RevertStep, Scope

TAG = "T01"
SCOPE = Scope("spring-2026", "flash", TAG)
NOW = 1_800_000_000
_serial = itertools.count(1)


def code(tag: str = TAG) -> str:
    """A fresh code of the campaign with routing tag `tag` (codes start with the tag)."""
    return f"{tag}{next(_serial):016d}X"


def limit(
    key: str, size: int, reason: str = "user_limit", amount: int = 1, expires_at: int = 0
) -> Counter:
    return Counter(key, size, amount, reason, expires_at)


def coupon(
    the_code: str | None = None, *, reward: str = "c30", terms: str = "t1", valid_from: int = NOW,
    valid_until: int = NOW + 86_400, face_value: int = 3000,
) -> NewCoupon:  # fmt: skip
    return NewCoupon(the_code or code(), reward, terms, valid_from, valid_until, face_value)


def outcome(
    prize: str | None = None, weight: int = 0, *, counters: Sequence[Counter] = (),
    budget: Sequence[Counter] = (), coupons: Sequence[NewCoupon] = (),
    log: Mapping[str, Any] | None = None,
) -> Outcome:  # fmt: skip
    result = orjson.dumps({"status": "issued", "prize": prize, "codes": [c.code for c in coupons]})
    fields = (
        log if log is not None else {"reward": prize or "c30", "codes": [c.code for c in coupons]}
    )
    return Outcome(
        prize, weight, tuple(counters), tuple(budget), tuple(coupons), result.decode(), fields
    )


def claim(
    user: str = "u1", *, key: str | None = None, fingerprint: str = "c30|d1|1.2.3.4",
    refusal: str | None = None, checks: Sequence[Counter] = (),
    outcomes: Sequence[Outcome] | None = None, draw: Draw | None = None, scope: Scope = SCOPE,
    log: Mapping[str, Any] | None = None, key_expires_at: int = 0,
) -> ClaimStep:  # fmt: skip
    if outcomes is None:
        outcomes = (outcome(coupons=[coupon(code(scope.tag))]),)
    fields = log if log is not None else {"claim_id": f"cl{next(_serial)}", "user": user}
    return ClaimStep(scope, user, key, fingerprint, refusal, tuple(checks), tuple(outcomes), draw,
                     fields, key_expires_at)  # fmt: skip


def draw(u: float, *, otherwise: bool = True, guarantee: int | None = None, after: int = 0) -> Draw:
    return Draw(u, otherwise, guarantee, after, "p:u1")


def redeem(
    the_code: str, user: str = "u1", *, order: str | None = None,
    verdicts: Mapping[str, str] | None = None, log: Mapping[str, Any] | None = None,
) -> RedeemStep:  # fmt: skip
    return RedeemStep(the_code[:3], the_code, user, order,
                      verdicts if verdicts is not None else {"t1": "3000"}, log or {})  # fmt: skip


def revert(the_code: str, log: Mapping[str, Any] | None = None) -> RevertStep:
    return RevertStep(the_code[:3], the_code, log or {})
