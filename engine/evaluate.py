"""Evaluate, steps 3 to 8 (LANGUAGE.md 10.1): stages, groups, the line bound, shipping,
totals, nudges and explanations, for one validated cart.

The engine has already done steps 1 and 2: it passes the automatic campaigns that passed
their rule checks (`OfferInput`) and every supplied coupon, checked against the store
(`CouponInput`, with the reason when that check failed), each with its evaluation-order
index. This module touches no store and no clock:

    outcome = evaluate_cart(ctx, 2, offers, coupons, lists, explain=True)
    body = to_json(outcome, claimable=[...], explanations=[...])

Stages run `item`, `shop`, `platform`: every offer of a stage is computed on the amounts
the earlier stages left on the lines (benefits.py), the best of each group is chosen
(select.py) and the chosen ones are bounded and allocated (allocate.py); free shipping
chosen in any stage is taken off the fee last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dsl.context import Bound, Context, Lists
from dsl.model import Campaign, FreeShipping, Gift, ItemFilter
from engine.allocate import Allocation, allocate_stage, ship
from engine.benefits import (
    BELOW_MIN_SPEND,
    BELOW_THRESHOLD,
    NO_APPLICABLE_ITEMS,
    compute,
    nudge,
)
from engine.money import MONEY_TEXTS
from engine.select import (
    EVALUATION_ORDER,
    CouponInput,
    Discount,
    Explanation,
    Nudge,
    OfferInput,
    choose,
)

__all__ = [
    "CouponInput",
    "EvaluateOutcome",
    "Explanation",
    "Nudge",
    "OfferInput",
    "evaluate_cart",
    "to_json",
]

_STAGE_INDEX = {"item": 0, "shop": 1, "platform": 2}
OUTRANKED = "outranked"


class EvaluateOutcome:
    """What evaluate decided. `left[i]` is what line i still costs (its `paid`),
    `allocations[i]` its allocations; `discounts` are in the order of the answer: by
    stage, then evaluation order, free shipping last."""

    __slots__ = (
        "allocations",
        "ctx",
        "discounts",
        "explanations",
        "left",
        "minor_units",
        "nudges",
        "paid",
        "shipping_allocations",
        "shipping_left",
        "total_discount",
    )

    def __init__(self, ctx: Context, minor_units: int) -> None:
        self.ctx = ctx
        self.minor_units = minor_units
        self.discounts: list[Discount] = []
        # Plain loops: on 3.11 a comprehension costs a function call, more than 5 lines.
        left: list[int] = []
        allocations: list[list[Allocation]] = []
        for item in ctx.items:
            left.append(item.amount)
            allocations.append([])
        self.left = left
        self.allocations = allocations
        self.shipping_left = ctx.shipping
        self.shipping_allocations: list[Allocation] = []
        self.nudges: list[Nudge] = []
        self.explanations: list[Explanation] = []
        self.total_discount = 0
        self.paid = 0


def evaluate_cart(
    ctx: Context,
    minor_units: int,
    offers: Sequence[OfferInput],
    coupons: Sequence[CouponInput],
    lists: Lists,
    explain: bool = False,
) -> EvaluateOutcome:
    """Steps 3-8 of 10.1 for `ctx`. Explanations are collected only with `explain`."""
    out = EvaluateOutcome(ctx, minor_units)
    stages: tuple[list[OfferInput | CouponInput], ...] = ([], [], [])
    for offer in offers:
        stages[_STAGE_INDEX[offer.campaign.stage]].append(offer)
    if coupons:
        _stage_coupons(coupons, stages, out, explain)
    every_line = tuple(range(len(ctx.items)))
    filters: dict[tuple[int, int], tuple[int, ...]] = {}
    queue: list[Discount] = []
    for entries in stages:
        if not entries:
            continue
        if len(entries) > 1:
            entries.sort(key=EVALUATION_ORDER)
        candidates = []
        for entry in entries:
            candidate = _candidate(entry, out, lists, filters, every_line, explain)
            if candidate is not None:
                candidates.append(candidate)
        if not candidates:
            continue
        if len(candidates) == 1:
            removed = allocate_stage(candidates, out.left, out.allocations, out.discounts, queue)
        else:
            chosen, beaten = choose(candidates)
            removed = allocate_stage(chosen, out.left, out.allocations, out.discounts, queue)
            if explain:
                _outranked(beaten, out)
        if explain and removed:
            _outranked(removed, out)
    if queue:
        out.shipping_left, out.shipping_allocations, removed = ship(
            queue, ctx.shipping, out.discounts
        )
        if explain and removed:
            _outranked(removed, out)
    total = 0
    for discount in out.discounts:
        total += discount.amount
    out.total_discount = total
    out.paid = sum(out.left) + out.shipping_left
    return out


def _stage_coupons(
    coupons: Sequence[CouponInput],
    stages: tuple[list[OfferInput | CouponInput], ...],
    out: EvaluateOutcome,
    explain: bool,
) -> None:
    seen: set[str] = set()
    for coupon in coupons:
        if coupon.code in seen:  # the same code twice is one coupon
            continue
        seen.add(coupon.code)
        campaign = coupon.campaign
        if coupon.reason is None and campaign is not None and coupon.terms is not None:
            stages[_STAGE_INDEX[campaign.stage]].append(coupon)
        elif explain:
            reason = coupon.reason or "unknown_code"
            campaign_id = campaign.id if campaign is not None else None
            out.explanations.append(Explanation(campaign_id, reason, coupon.reward, coupon.code))


def _candidate(
    entry: OfferInput | CouponInput,
    out: EvaluateOutcome,
    lists: Lists,
    filters: dict[tuple[int, int], tuple[int, ...]],
    every_line: tuple[int, ...],
    explain: bool,
) -> Discount | None:
    """Step 3 for one offer: its amount on the stage's base amounts (what is left on the
    lines now, before this stage allocates), its nudge, or its explanation."""
    ctx = out.ctx
    campaign: Campaign | None
    if isinstance(entry, OfferInput):
        campaign, terms, code = entry.campaign, entry.campaign.discount, None
    else:
        campaign, terms, code = entry.campaign, entry.terms, entry.code
    if campaign is None or terms is None:
        return None
    item_filter = terms.filter
    if item_filter is None:
        lines = every_line
    else:
        # Each filter is tested once per request and binding: equal filters of one
        # ruleset are one object (the compiler shares them).
        key = (id(item_filter), id(entry.bound))
        found = filters.get(key)
        lines = found if found is not None else _lines(item_filter, entry.bound, ctx, lists)
        filters[key] = lines
    amount, points, reason, applicable = compute(terms, ctx.items, lines, out.left, ctx.shipping)
    if reason != NO_APPLICABLE_ITEMS:
        towards = nudge(terms, applicable, amount, ctx.shipping)
        if towards is not None:
            out.nudges.append(Nudge(campaign.id, towards[0], towards[1], code))
    if isinstance(entry, CouponInput):
        if reason is not None:
            if explain:
                # A coupon is checked as a redeem would check it (10.4).
                why = BELOW_MIN_SPEND if reason == BELOW_THRESHOLD else reason
                out.explanations.append(Explanation(campaign.id, why, entry.reward, code))
            return None
        return Discount(
            campaign, entry.order, lines, amount, 0, None,
            type(terms.benefit) is FreeShipping, code, entry.reward, entry.valid_until,
        )  # fmt: skip
    if reason is not None:
        if explain:
            out.explanations.append(Explanation(campaign.id, reason))
        return None
    benefit = terms.benefit
    gift = benefit if type(benefit) is Gift else None
    return Discount(
        campaign, entry.order, lines, amount, points, gift, type(benefit) is FreeShipping
    )


def _lines(item_filter: ItemFilter, bound: Bound, ctx: Context, lists: Lists) -> tuple[int, ...]:
    """The applicable lines of an `on items where` condition."""
    test = item_filter.test
    kept = []
    for item in ctx.items:
        if test(item, ctx, bound, lists):
            kept.append(item.index)  # noqa: PERF401 (cheaper than a comprehension on 3.11)
    return tuple(kept)


def _outranked(discounts: Sequence[Discount], out: EvaluateOutcome) -> None:
    for discount in discounts:
        explanation = Explanation(discount.campaign.id, OUTRANKED, discount.reward, discount.code)
        out.explanations.append(explanation)


def to_json(
    outcome: EvaluateOutcome,
    *,
    claimable: Sequence[dict[str, Any]] = (),
    explanations: Sequence[Explanation] = (),
) -> dict[str, Any]:
    """The answer of 10.1 as JSON-ready values; `claimable` entries and the rule-check
    `explanations` come from the engine and go first."""
    texts = MONEY_TEXTS[outcome.minor_units]
    text = texts.__getitem__
    # A loop rather than a comprehension (each costs a call on 3.11), and the allocation
    # objects built inline: this runs per line and per allocation.
    lines = []
    per_line = zip(outcome.ctx.items, outcome.left, outcome.allocations, strict=True)
    for item, paid, taken in per_line:
        parts = []
        for d, amount in taken:
            if d.code is None:
                parts.append({"campaign": d.campaign.id, "stage": d.campaign.stage,
                              "amount": text(amount)})  # fmt: skip
            else:
                parts.append(_allocation(d, d.campaign.stage, text(amount)))
        lines.append({"line": item.index, "sku": item.sku, "qty": item.qty,
                      "list": text(item.amount), "allocations": parts,
                      "paid": text(paid)})  # fmt: skip
    shipping = {
        "fee": text(outcome.ctx.shipping),
        "allocations": [
            _allocation(d, "shipping", text(amount)) for d, amount in outcome.shipping_allocations
        ],
        "paid": text(outcome.shipping_left),
    }
    explained = [_explanation(e) for e in explanations]
    explained += [_explanation(e) for e in outcome.explanations]
    return {
        "discounts": [_discount(d, text) for d in outcome.discounts],
        "total_discount": text(outcome.total_discount),
        "lines": lines,
        "shipping": shipping,
        "paid": text(outcome.paid),
        "claimable": list(claimable),
        "nudges": [_nudge(n, text) for n in outcome.nudges],
        "explanations": explained,
    }


def _discount(d: Discount, text: Callable[[int], str]) -> dict[str, Any]:
    stage = "shipping" if d.free_shipping else d.campaign.stage
    body: dict[str, Any]
    if d.code is None:
        body = {"campaign": d.campaign.id, "amount": text(d.amount), "stage": stage}
    else:
        body = {"campaign": d.campaign.id, "reward": d.reward, "code": d.code,
                "amount": text(d.amount), "stage": stage}  # fmt: skip
    if d.gift is not None:
        body["gift"] = {"sku": d.gift.sku, "qty": d.gift.qty}
    elif d.points:
        body["points"] = d.points
    return body


def _allocation(d: Discount, stage: str, amount: str) -> dict[str, Any]:
    if d.code is None:
        return {"campaign": d.campaign.id, "stage": stage, "amount": amount}
    return {"campaign": d.campaign.id, "reward": d.reward, "code": d.code, "stage": stage,
            "amount": amount}  # fmt: skip


def _nudge(n: Nudge, text: Callable[[int], str]) -> dict[str, Any]:
    if n.code is None:
        return {"campaign": n.campaign, "spend_more": text(n.spend_more), "save": text(n.save)}
    return {"campaign": n.campaign, "code": n.code, "spend_more": text(n.spend_more),
            "save": text(n.save)}  # fmt: skip


def _explanation(e: Explanation) -> dict[str, Any]:
    if e.reward is None and e.code is None:
        return {"campaign": e.campaign, "reason": e.reason}
    body: dict[str, Any] = {"campaign": e.campaign}
    if e.reward is not None:
        body["reward"] = e.reward
    if e.code is not None:
        body["code"] = e.code
    body["reason"] = e.reason
    return body
