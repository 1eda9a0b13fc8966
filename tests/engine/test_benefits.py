"""engine/benefits.py: one offer on one cart (LANGUAGE.md 7.1, 7.2, 9.3, 10.1 step 8)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from dsl.context import Context, Item
from dsl.model import (
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
from engine.benefits import applicable_lines, compute, nudge, redeem_verdict
from engine.context import parse_context

TIERS = SpendTiers(((20000, Save(2000)), (40000, Save(5000)), (80000, Save(12000))))


def where(text: str, test: Callable[[Item], bool]) -> ItemFilter:
    return ItemFilter(text, text, True, lambda item, ctx, bound, lists: test(item))


def cart(*lines: tuple[str, str, int], shipping: str = "0") -> Context:
    """Lines as (category, price, qty)."""
    items = [
        {"sku": f"S{i}", "category": c, "price": p, "qty": q} for i, (c, p, q) in enumerate(lines)
    ]
    raw: dict[str, Any] = {"cart": {"items": items, "shipping": shipping}}
    return parse_context(raw, now=0, currency="CNY", minor_units=2)


def on_list(terms: Terms, ctx: Context) -> tuple[int, int, str | None, int]:
    lines = applicable_lines(terms.filter, ctx, None, {})  # type: ignore[arg-type]
    return compute(terms, ctx.items, lines, [i.amount for i in ctx.items], ctx.shipping)


def test_value_off_is_bounded_by_the_applicable_amount() -> None:
    shoes = where("shoes", lambda i: i.category == "shoes")
    terms = Terms(ValueOff(5000), filter=shoes)
    assert on_list(terms, cart(("shoes", "30.00", 1), ("hats", "200.00", 1))) == (
        3000,
        0,
        None,
        3000,
    )
    assert on_list(terms, cart(("shoes", "120.00", 1))) == (5000, 0, None, 12000)
    assert on_list(terms, cart(("hats", "120.00", 1)))[2] == "no_applicable_items"


def test_min_spend_is_inclusive() -> None:
    terms = Terms(ValueOff(2000), min_spend=15000)
    assert on_list(terms, cart(("bags", "150.00", 1)))[:3] == (2000, 0, None)
    assert on_list(terms, cart(("bags", "149.99", 1)))[:3] == (0, 0, "below_threshold")


@pytest.mark.parametrize(
    ("price", "amount"),
    [("199.97", 3000), ("333.29", 4999), ("400.00", 5000)],
)
def test_percent_rounds_half_up_then_caps(price: str, amount: int) -> None:
    terms = Terms(PercentOff(Fraction(15)), cap=5000)
    assert on_list(terms, cart(("x", price, 1)))[0] == amount


def test_spend_tiers_pick_the_highest_reached() -> None:
    terms = Terms(TIERS)
    assert on_list(terms, cart(("x", "363.00", 1)))[0] == 2000
    assert on_list(terms, cart(("x", "200.00", 2)))[0] == 5000
    assert on_list(terms, cart(("x", "799.00", 1), ("y", "1.00", 1)))[0] == 12000
    assert on_list(terms, cart(("x", "199.99", 1)))[2] == "below_threshold"


def test_tier_saves_may_be_percentages_and_qty_tiers_count_units() -> None:
    terms = Terms(
        QtyTiers(((2, Save(percent=Fraction(5))), (3, Save(percent=Fraction(10))))), cap=2000
    )
    assert on_list(terms, cart(("a", "12.45", 1), ("b", "8.80", 1)))[0] == 106
    assert on_list(terms, cart(("c", "33.35", 3)))[0] == 1001
    assert on_list(terms, cart(("d", "60.00", 4)))[0] == 2000
    assert on_list(terms, cart(("d", "60.00", 1)))[2] == "below_threshold"


def test_every_steps_stop_at_the_cap() -> None:
    terms = Terms(Every(20000, 2000), cap=10000)
    assert on_list(terms, cart(("a", "650.00", 1)))[0] == 6000
    assert on_list(terms, cart(("a", "999.99", 1)))[0] == 8000
    assert on_list(terms, cart(("a", "300.00", 4)))[0] == 10000
    assert on_list(terms, cart(("a", "50.00", 3)))[2] == "below_threshold"


def test_buy_get_gives_the_cheapest_units() -> None:
    socks = Terms(BuyGet(2, 1, Fraction(100)))
    five = cart(("s", "29.90", 2), ("s", "19.90", 2), ("s", "39.90", 1))
    assert on_list(socks, five)[0] == 1990
    assert on_list(socks, cart(("s", "29.90", 3), ("s", "19.90", 3)))[0] == 3980
    assert on_list(socks, cart(("s", "29.90", 2)))[2] == "below_threshold"
    half = Terms(BuyGet(1, 1, Fraction(50)))
    assert on_list(half, cart(("s", "199.00", 1), ("s", "159.00", 1), ("s", "99.00", 1)))[0] == 4950
    assert on_list(half, cart(("s", "99.99", 3)))[0] == 5000


def test_buy_get_on_base_amounts_uses_the_unit_amounts_of_9_3() -> None:
    ctx = cart(("s", "10.00", 3))
    terms = Terms(BuyGet(2, 1, Fraction(100)))
    assert compute(terms, ctx.items, (0,), [2900], 0)[0] == 966


def test_free_shipping_is_the_fee_even_when_zero() -> None:
    terms = Terms(FreeShipping(), min_spend=9900)
    assert on_list(terms, cart(("a", "120.00", 1), shipping="12.00"))[:3] == (1200, 0, None)
    assert on_list(terms, cart(("a", "120.00", 1)))[:3] == (0, 0, None)
    assert on_list(terms, cart(("a", "98.00", 1), shipping="10.00"))[2] == "below_threshold"
    capped = Terms(FreeShipping(), cap=500)
    assert on_list(capped, cart(("a", "1.00", 1), shipping="12.00"))[0] == 500
    # the bound is the fee, not the applicable amount
    assert on_list(Terms(FreeShipping()), cart(("a", "1.00", 1), shipping="12.00"))[0] == 1200


def test_gifts_and_points() -> None:
    assert on_list(Terms(Gift("TOTE-01", 1), min_spend=30000), cart(("a", "300.00", 1)))[:3] == (
        0,
        0,
        None,
    )
    assert on_list(Terms(Points(1, 1000)), cart(("a", "120.00", 1)))[:3] == (0, 12, None)
    assert on_list(Terms(Points(1, 1000)), cart(("a", "9.99", 1)))[2] == "below_threshold"
    books = where("books", lambda i: i.category == "books")
    assert on_list(Terms(Points(50, None), filter=books), cart(("books", "1.00", 1)))[1] == 50
    assert on_list(Terms(Points(50, None), filter=books), cart(("a", "1.00", 1)))[2] == (
        "no_applicable_items"
    )


@pytest.mark.parametrize(
    ("terms", "applicable", "current", "expected"),
    [
        (Terms(TIERS), 36300, 2000, (3700, 5000)),
        (Terms(TIERS), 40000, 5000, (40000, 12000)),
        (Terms(TIERS), 19999, 0, (1, 2000)),
        (Terms(TIERS), 80000, 12000, None),
        (Terms(Every(20000, 2000), cap=10000), 65000, 6000, (15000, 8000)),
        (Terms(Every(20000, 2000), cap=10000), 99999, 8000, (1, 10000)),
        (Terms(Every(20000, 2000), cap=10000), 120000, 10000, None),
        (Terms(Every(20000, 2000), cap=10000), 15000, 0, (5000, 2000)),
        (Terms(ValueOff(2000), min_spend=15000), 8000, 0, (7000, 2000)),
        (Terms(ValueOff(4000), min_spend=30000), 24000, 0, (6000, 4000)),
        (Terms(ValueOff(2000), min_spend=15000), 15000, 2000, None),
        (Terms(PercentOff(Fraction(20)), min_spend=10000), 9450, 0, (550, 2000)),
        (Terms(FreeShipping(), min_spend=9900), 9800, 0, (100, 1000)),
        (Terms(FreeShipping(), min_spend=9900), 9800, 0, (100, 1000)),
        # with a cap below the amount at the threshold
        (Terms(PercentOff(Fraction(50)), cap=1000, min_spend=10000), 5000, 0, (5000, 1000)),
        # a value above its min spend is bounded by the threshold
        (Terms(ValueOff(5000), min_spend=3000), 2000, 0, (1000, 3000)),
        (Terms(QtyTiers(((2, Save(500)),))), 100, 0, None),
        (Terms(BuyGet(2, 1, Fraction(100)), min_spend=10000), 100, 0, None),
        (Terms(Gift("T", 1), min_spend=10000), 100, 0, None),
        (Terms(Points(1, 1000)), 100, 0, None),
        (Terms(ValueOff(2000)), 100, 100, None),
    ],
)
def test_nudges(
    terms: Terms, applicable: int, current: int, expected: tuple[int, int] | None
) -> None:
    assert nudge(terms, applicable, current, 1000) == expected


def test_free_shipping_without_a_fee_gives_no_nudge() -> None:
    assert nudge(Terms(FreeShipping(), min_spend=9900), 9800, 0, 0) is None


def test_redeem_verdict_on_list_amounts() -> None:
    shoes = where("shoes", lambda i: i.category == "shoes")
    coupon = Terms(PercentOff(Fraction(15)), cap=5000, min_spend=20000, filter=shoes)
    ctx = cart(("shoes", "259.00", 1), ("shoes", "99.00", 1))
    assert redeem_verdict(coupon, ctx) == (5000, None)
    assert redeem_verdict(coupon, cart(("shoes", "199.00", 1))) == (0, "below_min_spend")
    assert redeem_verdict(coupon, cart(("hats", "999.00", 1))) == (0, "no_applicable_items")
    assert redeem_verdict(
        Terms(ValueOff(1000), min_spend=2000), cart(("a", "19.9", 1), ("b", "5", 2), ("c", "0", 1))
    ) == (1000, None)
