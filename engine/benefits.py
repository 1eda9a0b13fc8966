"""What one offer gives on one cart (LANGUAGE.md 7.1, 7.2, 10.1 step 8, 10.4): pure
arithmetic on the base amounts of the offer's stage, shared by evaluate and redeem.

An offer is a `model.Terms` (a benefit with `cap`, `min spend` and `on items where`). Its
applicable lines are given as indices into the cart, and `base[i]` is what line `i` is
worth when the offer's stage starts: `price x qty` in redeem and in the first stage. The
result is an amount in minor units (rounded half-up once, then lowered to the cap, then
to the applicable amount A), points, or a reason: `below_threshold` or
`no_applicable_items`. A gift has amount 0; the caller reads it off the benefit.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from types import MappingProxyType

from dsl.context import NO_ATTRIBUTES, Bound, Context, Item, Lists
from dsl.model import (
    Benefit,
    BuyGet,
    Every,
    FreeShipping,
    Gift,
    ItemFilter,
    PercentOff,
    Points,
    QtyTiers,
    Save,
    SpendTiers,
    Terms,
    ValueOff,
)
from engine.money import cheapest_sum, percent_of, unit_groups

BELOW_THRESHOLD = "below_threshold"
NO_APPLICABLE_ITEMS = "no_applicable_items"
BELOW_MIN_SPEND = "below_min_spend"
NO_LISTS: Lists = MappingProxyType({})

Outcome = tuple[int, int, str | None, int]
"""(amount, points, reason or None, applicable amount A)."""


def applicable_lines(
    item_filter: ItemFilter | None, ctx: Context, bound: Bound, lists: Lists
) -> tuple[int, ...]:
    """Indices of the lines an `on items where` keeps (every line without a filter)."""
    items = ctx.items
    if item_filter is None:
        return tuple(range(len(items)))
    test = item_filter.test
    return tuple([item.index for item in items if test(item, ctx, bound, lists)])


def compute(
    terms: Terms, items: Sequence[Item], lines: Sequence[int], base: Sequence[int], shipping: int
) -> Outcome:
    """The offer on `lines` worth `base` (7.1): amount, points, reason, A."""
    if not lines:
        return 0, 0, NO_APPLICABLE_ITEMS, 0
    applicable = 0
    for i in lines:
        applicable += base[i]
    min_spend = terms.min_spend
    if min_spend is not None and applicable < min_spend:
        return 0, 0, BELOW_THRESHOLD, applicable
    benefit = terms.benefit
    # The benefits measured on A are inlined here, most common first: this runs for every
    # offer of every request, and each function call costs as much as the arithmetic.
    raw: int | None
    if type(benefit) is SpendTiers:
        save = None
        for threshold, reached in benefit.tiers:
            if applicable < threshold:
                break
            save = reached
        if save is None:
            return 0, 0, BELOW_THRESHOLD, applicable
        raw = save.amount if save.amount is not None else _percent(applicable, save.percent)
    elif type(benefit) is PercentOff:
        raw = percent_of(applicable, benefit.percent)
    elif type(benefit) is ValueOff:
        raw = benefit.amount
    elif type(benefit) is FreeShipping:
        raw = shipping
    elif type(benefit) is Every:
        raw = _by_amount(benefit, applicable, shipping)
    elif type(benefit) is Gift:
        return 0, 0, None, applicable
    elif type(benefit) is Points:
        return _points(benefit, applicable)
    elif type(benefit) is QtyTiers or type(benefit) is BuyGet:
        raw = _by_units(benefit, items, lines, base, applicable)
    else:
        raise TypeError(f"unknown benefit {benefit!r}")
    if raw is None:
        return 0, 0, BELOW_THRESHOLD, applicable
    # 7.1 steps 3 and 4: the cap, then the bound (the fee for free shipping).
    cap = terms.cap
    if cap is not None and raw > cap:
        raw = cap
    ceiling = shipping if type(benefit) is FreeShipping else applicable
    return (raw if raw < ceiling else ceiling), 0, None, applicable


def _percent(amount: int, percent: Fraction | None) -> int:
    """`percent_of` for a percentage that is set."""
    assert percent is not None
    return percent_of(amount, percent)


def nudge(terms: Terms, applicable: int, current: int, shipping: int) -> tuple[int, int] | None:
    """10.1 step 8: (spend_more, save) towards the next money threshold above A, when
    reaching it would give more than `current`; None for qty tiers, buy-get, gift and
    points, which have no money threshold to nudge towards."""
    benefit = terms.benefit
    min_spend = terms.min_spend
    if min_spend is not None and applicable < min_spend:
        if type(benefit) in _NO_NUDGE:
            return None
        threshold = min_spend
    elif type(benefit) is SpendTiers:
        for tier, _ in benefit.tiers:
            if tier > applicable:
                threshold = tier
                break
        else:
            return None
    elif type(benefit) is Every:
        step = benefit.step
        threshold = (applicable // step + 1) * step
    else:
        return None
    raw = _by_amount(benefit, threshold, shipping)
    if raw is None:
        return None
    cap = terms.cap
    if cap is not None and raw > cap:
        raw = cap
    ceiling = shipping if type(benefit) is FreeShipping else threshold
    save = raw if raw < ceiling else ceiling
    return (threshold - applicable, save) if save > current else None


def redeem_verdict(
    terms: Terms, ctx: Context, bound: Bound = NO_ATTRIBUTES, lists: Lists = NO_LISTS
) -> tuple[int, str | None]:
    """A coupon on a cart at redeem (10.4): on list amounts, independently of stages.
    Returns (amount, None) or (0, `no_applicable_items` | `below_min_spend`)."""
    lines = applicable_lines(terms.filter, ctx, bound, lists)
    base = [item.amount for item in ctx.items]
    amount, _, reason, _ = compute(terms, ctx.items, lines, base, ctx.shipping)
    if reason == BELOW_THRESHOLD:
        return 0, BELOW_MIN_SPEND
    return amount, reason


def _by_amount(benefit: Benefit, applicable: int, shipping: int) -> int | None:
    """The amount before modifiers of a benefit measured on A; None below its threshold.
    The most common benefits are tested first: this runs for every offer of a request."""
    if type(benefit) is SpendTiers:
        save = _tier(benefit.tiers, applicable)
        return None if save is None else _save(save, applicable)
    if type(benefit) is PercentOff:
        return percent_of(applicable, benefit.percent)
    if type(benefit) is ValueOff:
        return benefit.amount
    if type(benefit) is FreeShipping:
        return shipping
    if type(benefit) is Every:
        return None if applicable < benefit.step else applicable // benefit.step * benefit.save
    return None


_NO_NUDGE = frozenset({QtyTiers, BuyGet, Gift, Points})
"""Benefits without a money threshold to nudge towards."""


def _by_units(
    benefit: QtyTiers | BuyGet,
    items: Sequence[Item],
    lines: Sequence[int],
    base: Sequence[int],
    applicable: int,
) -> int | None:
    units = 0
    for i in lines:
        units += items[i].qty
    if isinstance(benefit, QtyTiers):
        save = _tier(benefit.tiers, units)
        return None if save is None else _save(save, applicable)
    bundle = benefit.buy + benefit.get
    if units < bundle:
        return None
    groups = [group for i in lines for group in unit_groups(base[i], items[i].qty)]
    free = cheapest_sum(groups, units // bundle * benefit.get)
    return percent_of(free, benefit.percent)


def _points(benefit: Points, applicable: int) -> Outcome:
    if benefit.per is None:
        return 0, benefit.points, None, applicable
    if applicable < benefit.per:
        return 0, 0, BELOW_THRESHOLD, applicable
    return 0, applicable // benefit.per * benefit.points, None, applicable


def _tier(tiers: Sequence[tuple[int, Save]], measure: int) -> Save | None:
    reached = None
    for threshold, save in tiers:
        if measure < threshold:
            break
        reached = save
    return reached


def _save(save: Save, applicable: int) -> int:
    if save.amount is not None:
        return save.amount
    assert save.percent is not None
    return percent_of(applicable, save.percent)
