"""How much discounts can take off one cart, from their compiled terms (LANGUAGE.md 7.1),
for the pre-launch analysis of `promo explain`.

Amounts are integer minor units. `at_most` is an upper bound over every cart;
`guaranteed` a lower bound over the carts whose applicable amount is at least some
floor. Both follow 7.1: round half-up, then `cap`, then the applicable amount; where a
bound depends on something the rules do not fix (a percentage of an unknown cart, the
shipping fee, unit prices), there is none.

`worst_case` bounds a whole ruleset's automatic discounts. Evaluate chooses at most one
offer per group and groups stack (10.1), so the total is at most the sum, over the
groups, of the largest bound in each, as if every group's best offer applied to the same
cart at once. Free shipping adds at most the shipping fee; gifts and points add no
money; a discount without a bound makes the total unbounded, and the finding names it.
Coupons a shopper redeems are not included: they come on top, within their groups.
"""

from __future__ import annotations

from fractions import Fraction
from math import floor
from typing import Any

from dsl import model as M
from dsl.phrases import join, money


def percent_of(amount: int, p: Fraction) -> int:
    """`amount × p / 100` rounded half-up (9): how a percentage becomes money."""
    return floor(Fraction(amount) * p / 100 + Fraction(1, 2))


def at_most(t: M.Terms) -> int | None:
    """The most this discount takes off one cart; None when nothing bounds it but the
    cart (a percentage, `every`, buy-get or free shipping without a cap)."""
    raw: int | None
    match t.benefit:
        case M.ValueOff(amount=value):
            raw = value
        case M.SpendTiers(tiers=tiers) | M.QtyTiers(tiers=tiers):
            saves = [s.amount for _, s in tiers]
            raw = None if None in saves else max(s for s in saves if s is not None)
        case M.Gift() | M.Points():
            raw = 0
        case _:
            raw = None
    if t.cap is not None:
        return t.cap if raw is None else min(raw, t.cap)
    return raw


def unbounded_reason(t: M.Terms) -> str:
    """Why `at_most` found no bound, in words."""
    match t.benefit:
        case M.PercentOff():
            return "a percentage with no cap"
        case M.Every():
            return "`every` with no cap"
        case M.BuyGet():
            return "buy-get with no cap"
        case M.FreeShipping():
            return "free shipping, as large as the shipping fee"
    return "a percentage tier with no cap"


def threshold(t: M.Terms) -> int:
    """The least applicable amount at which the discount applies (0 when it depends on
    units, or on nothing)."""
    match t.benefit:
        case M.SpendTiers(tiers=tiers):
            return tiers[0][0]
        case M.Every(step=step):
            return step
        case M.Points(per=per) if per is not None:
            return per
    return t.min_spend or 0


def guaranteed(t: M.Terms, least: int) -> int | None:
    """The least this discount gives on any cart whose applicable amount is at least
    `least`; None when it may not apply to some of them, or depends on units or fees."""
    if threshold(t) > least:
        return None
    raw: int | None
    match t.benefit:
        case M.ValueOff(amount=value):
            raw = value
        case M.PercentOff(percent=p):
            raw = percent_of(least, p)  # a percentage grows with the amount
        case M.SpendTiers(tiers=tiers):
            raw = _least_tier(tiers, least)
        case M.Every(step=step, save=save):
            raw = least // step * save
        case M.Gift() | M.Points():
            raw = 0
        case _:
            raw = None
    if raw is None:
        return None
    if t.cap is not None:
        raw = min(raw, t.cap)
    return min(raw, least)  # never more than the applicable amount (7.1 step 4)


def _least_tier(tiers: tuple[tuple[int, M.Save], ...], least: int) -> int:
    """The least saving of spend tiers over amounts >= `least` (>= the first threshold):
    the tier reached at `least`, and every tier above it at its own threshold."""
    reached = max(i for i, (t, _) in enumerate(tiers) if t <= least)
    values = []
    for i in range(reached, len(tiers)):
        start, save = tiers[i]
        values.append(tier_value(save, max(start, least)))
    return min(values)


def tier_value(save: M.Save, amount: int) -> int:
    """What a tier saves on an applicable amount, before the cap."""
    if save.amount is not None:
        return save.amount
    assert save.percent is not None
    return percent_of(amount, save.percent)


# --- the worst case of a ruleset -------------------------------------------------------


def worst_case(campaigns: tuple[M.Campaign, ...], k: int) -> dict[str, Any]:
    groups: dict[str, list[M.Campaign]] = {}
    for c in campaigns:
        if c.discount is not None:
            groups.setdefault(c.group, []).append(c)
    total = 0
    parts: list[str] = []
    shipping: list[str] = []  # free shipping: as much as the fee
    unbounded: list[str] = []
    for members in groups.values():
        best = _largest(members, shipping, unbounded)
        if best is not None and best[0] > 0:
            total += best[0]
            parts.append(_part(best[1], best[0], k))
    named = [u.split(" ", 1)[0] for u in unbounded] or [c.id for m in groups.values() for c in m]
    return {
        "kind": "worst_case",
        "campaigns": named,
        "bounded": not unbounded,
        "at_most": None if unbounded else money(total, k).replace(",", ""),
        "plus_shipping_fee": bool(shipping),
        "assumes": (
            "every group's best automatic offer applies to the same cart at once;"
            " coupons a shopper redeems are not included"
        ),
        "message": _message(total, parts, shipping, unbounded, k),
    }


def _largest(
    members: list[M.Campaign], shipping: list[str], unbounded: list[str]
) -> tuple[int, M.Campaign] | None:
    """The member with the largest bound; free shipping and unbounded members are noted
    in `shipping` and `unbounded` instead."""
    best: tuple[int, M.Campaign] | None = None
    for c in members:
        assert c.discount is not None
        if isinstance(c.discount.benefit, M.FreeShipping) and c.discount.cap is None:
            shipping.append(c.id)
            continue
        bound = at_most(c.discount)
        if bound is None:
            unbounded.append(f"{c.id} ({unbounded_reason(c.discount)})")
        elif best is None or bound > best[0]:
            best = (bound, c)
    return best


def _part(c: M.Campaign, bound: int, k: int) -> str:
    if c.group_name is None:
        return f"{c.id} {money(bound, k)}"
    return f"group {c.group_name} {money(bound, k)} ({c.id})"


def _message(
    total: int, parts: list[str], shipping: list[str], unbounded: list[str], k: int
) -> str:
    bounded = ""
    if parts or shipping:
        fee = f", plus the shipping fee ({join(shipping)})" if shipping else ""
        each = "; ".join(parts) or "nothing off the items"
        bounded = (
            f"at most {money(total, k)} off one cart{fee}, as if every group's best offer"
            f" applied to it at once: {each}"
        )
    if unbounded:
        rest = f"; the other automatic discounts take {bounded}" if bounded else ""
        grow = (
            "grows with the cart (cap it)"
            if len(unbounded) == 1
            else "grow with the cart (cap them)"
        )
        return f"worst case: NOT BOUNDED: {join(unbounded)} {grow}{rest}"
    if bounded:
        return f"worst case: automatic discounts take {bounded}"
    return "worst case: no automatic discount takes money off a cart"
