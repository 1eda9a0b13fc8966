"""The generated conditions (LANGUAGE.md 5): exact numbers, time, lists, aggregates, and
how `check_all` shares and defers work."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from dsl.compiler import compile_text
from dsl.context import Context, Item, Lists
from dsl.model import DENIED, NOT_ELIGIBLE, OK, CompiledRuleset

NOW = 1794369600  # 2026-11-11 12:00:00 +08:00
DISCOUNT = "discount { value 1 off }"


def compiled(
    body: str, *, context: str = "", tz: str = "Asia/Shanghai", currency: str = "CNY"
) -> CompiledRuleset:
    block = f"context {{\n{context}\n}}\n" if context else ""
    text = f'ruleset "t"\ntimezone "{tz}"\ncurrency {currency}\n{block}{body}'
    return compile_text(text, "t.promo")[0]


def conditions(*whens: str, **options: str) -> CompiledRuleset:
    """One campaign per condition."""
    body = "".join(
        f"campaign c{i} {{ window 2026-01-01 .. 2026-12-31  when {w}  {DISCOUNT} }}\n"
        for i, w in enumerate(whens)
    )
    return compiled(body, **options)


def item(price: int, qty: int = 1, category: str = "", **attributes: Any) -> Item:
    return Item(0, "SKU", category, "", price, qty, (), attributes)


def request(items: tuple[Item, ...] = (), **fields: Any) -> Context:
    ctx = Context(now=fields.pop("now", NOW), currency=fields.pop("currency", "CNY"))
    ctx.items = tuple(
        Item(i, x.sku, x.category, x.shop, x.price, x.qty, x.tags, x.attributes)
        for i, x in enumerate(items)
    )
    ctx.total = sum(x.amount for x in ctx.items)
    for name, value in fields.items():
        setattr(ctx, name, value)
    return ctx


def run(r: CompiledRuleset, ctx: Context, lists: Lists | None = None) -> list[int]:
    """check_all, after checking that every campaign's own check agrees."""
    lists = lists if lists is not None else {}
    bound = r.bind(ctx)
    results = list(r.check_all(ctx, bound, lists))
    assert results == [c.check(ctx, bound, lists) for c in r.campaigns]
    ok = [c.id for c, x in zip(r.campaigns, results, strict=True) if x == OK]
    assert r.passing_all(ctx, bound, lists) == ok
    return results


def holds(r: CompiledRuleset, ctx: Context, lists: Lists | None = None) -> list[bool]:
    return [x == OK for x in run(r, ctx, lists)]


# --- exact numbers ------------------------------------------------------------------------


def test_money_constants_fold_at_the_minor_unit() -> None:
    r = conditions(
        "cart.total >= 85.495", "cart.total == 1.005", "cart.total != 1.005", "cart.total < 85.495"
    )
    assert "ctx.total >= 8550" in r.generated_source
    assert "ctx.total <= 8549" in r.generated_source
    assert holds(r, request(total=8549)) == [False, False, True, True]
    assert holds(r, request(total=8550)) == [True, False, True, False]


def test_a_currency_without_minor_units() -> None:
    r = conditions("cart.total >= 99.5", "cart.total > 99.5", "cart.total <= 99.5", currency="JPY")
    assert holds(r, request(total=99, currency="JPY")) == [False, False, True]
    assert holds(r, request(total=100, currency="JPY")) == [True, True, False]


@pytest.mark.parametrize(
    ("condition", "level", "expected"),
    [
        ("user.level * 0.5 >= 1.25", 3, True),
        ("user.level * 0.5 >= 1.25", 2, False),
        ("-user.level < -2", 3, True),
        ("-user.level < -2", 2, False),
        ("user.level - 0.1 > 2", 3, True),
        ("user.level * 0 == 0", 7, True),
        ("user.level * 1.000 == user.level", 7, True),
        ("0.1 + 0.2 == 0.3", 0, True),
        ("2.5 * 2 == 5", 0, True),
        ("user.level in [1, 2.5, 3]", 3, True),
        ("user.level in [1, 2.5, 3]", 2, False),
        ("user.level not in [2.5]", 2, True),
        ("user.level * 0.5 in [1.5]", 3, True),
        ("user.level in [user.risk_score, 2.5]", 4, True),
        ("user.level in [user.risk_score * 0.5, 2.5]", 2, True),
    ],
)
def test_number_arithmetic_is_exact(condition: str, level: int, expected: bool) -> None:
    assert holds(conditions(condition), request(level=level, risk_score=4)) == [expected]


def test_money_arithmetic_aligns_scales() -> None:
    r = conditions(
        "cart.total + cart.shipping * 2 == 30.5",
        "cart.total * 1.5 == 15.75",
        "cart.total in [10.5, 10.005]",
        "cart.total not in [10.005]",
        "cart.total - user.level >= 7.5",
    )
    assert holds(r, request(total=1050, shipping=1000, level=3)) == [True, True, True, True, True]
    assert holds(r, request(total=1051, shipping=1000, level=3)) == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_decimal_attributes_never_round() -> None:
    context = "user.ratio: decimal = 0\nuser.lucky: list of int = [8, 88]"
    r = conditions(
        "user.ratio * 3 == 1",
        "user.ratio * 3 >= 0.9999",
        "user.ratio + cart.total > 10",
        "user.ratio in [0.5, 1]",
        "user.ratio * 10 == 1.23456789012345678901234567890123456789",
        "user.ratio * cart.total >= 3.333",
        context=context,
    )
    ratio = {"ratio": "0.3333"}
    assert holds(r, request(total=1000, user_attributes=ratio)) == [
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    long = {"ratio": "0.123456789012345678901234567890123456789"}
    assert holds(r, request(total=1000, user_attributes=long))[4] is True
    assert holds(r, request(total=1000, user_attributes={"ratio": "0.50"}))[3] is True


def test_membership_in_a_list_of_int_attribute() -> None:
    r = conditions(
        "cart.total in user.lucky",
        "user.level in user.lucky",
        "user.level * 0.5 not in user.lucky",
        context="user.lucky: list of int = [8, 88]",
    )
    assert holds(r, request(total=800, level=88)) == [True, True, True]
    assert holds(r, request(total=801, level=16)) == [False, False, False]


# --- time, strings, booleans, runtime lists --------------------------------------------------


def test_datetimes_and_durations() -> None:
    r = conditions(
        "now - user.registered_at >= 1h",
        "user.account_age >= 7d",
        "now < 2026-11-11",  # local midnight in the ruleset timezone
        "user.vip_until - now > -3d",
        "now + 1d <= user.vip_until",
        "user.vip_until >= 2026-11-12 12:00",
        context="user.vip_until: datetime = 2000-01-01",
        tz="Asia/Kolkata",
    )
    vip = {"vip_until": "2026-11-12T12:00:00+05:30"}
    midnight = 1794335400  # 2026-11-11 00:00 +05:30
    ctx = request(
        now=midnight - 1, registered_at=midnight - 3601, account_age=7 * 86400, user_attributes=vip
    )
    assert holds(r, ctx) == [True, True, True, True, True, True]
    ctx = request(now=midnight, registered_at=midnight - 3599, account_age=0, user_attributes={})
    assert holds(r, ctx) == [False, False, False, False, False, False]


def test_strings_booleans_and_runtime_lists() -> None:
    r = conditions(
        'channel in ["app", "web"] and region == ""',
        "not user.is_new and user.is_new == false",
        'user.id in list "blocked" or device.id not in list "devices"',
        '"vip" in user.tags',
        "channel in [region, referral.event]",
    )
    lists: Mapping[str, frozenset[str]] = {
        "blocked": frozenset({"u1"}),
        "devices": frozenset({"d1"}),
    }
    ctx = request(channel="app", user_id="u1", device_id="d1", user_tags=("vip",))
    assert holds(r, ctx, lists) == [True, True, True, True, False]
    ctx = request(channel="x", region="x", is_new=True, user_id="u2", device_id="d1")
    assert holds(r, ctx, lists) == [False, False, False, False, True]
    assert holds(r, ctx, {})[2] is True  # a list never written is empty


# --- aggregates --------------------------------------------------------------------------------


def test_aggregates() -> None:
    r = conditions(
        'any(items where item.category == "lens")',
        'all(items where item.category == "lens")',
        'count(items where item.category == "lens") >= 3',
        "count(items) == 4",
        "sum(1 for items) == 2",
        'sum(item.price * item.qty for items where item.category != "lens") >= 499.99',
        "all(items where false)",
        "any(items where true)",
        "sum(item.price for items) == 0",
        "sum(item.brand_rank * 0.5 for items) >= 1.5",
        context="item.brand_rank: int = 0",
    )
    lens = Item(0, "L", "lens", "", 10000, 3, (), {"brand_rank": 1})
    cam = Item(0, "C", "camera", "", 50000, 1, (), {"brand_rank": 2})
    assert holds(r, request((lens, cam))) == [
        True,
        False,
        True,
        True,
        True,
        True,
        False,
        True,
        False,
        True,
    ]
    assert holds(r, request((lens,))) == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    assert holds(r, request(())) == [
        False,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
        True,
        False,
    ]


def test_aggregates_read_segments_and_other_aggregates() -> None:
    r = compiled(
        "segment members = user.level >= 1\n"
        "campaign a { window 2026-01-01 .. 2026-12-31\n"
        '  when any(items where item.qty >= count(items where item.category == "x") and members)\n'
        "  discount { value 1 off } }\n"
        "campaign b { window 2026-01-01 .. 2026-12-31\n"
        "  when user.level >= 5\n"
        '  when any(items where item.qty >= count(items where item.category == "x") and members)\n'
        "  discount { value 1 off } }\n"
    )
    items = (item(100, 2, "x"), item(100, 1, "y"))
    assert holds(r, request(items, level=5)) == [True, True]
    assert holds(r, request(items, level=0)) == [False, False]
    assert holds(r, request((item(100, 1, "x"), item(100, 1, "x")), level=5)) == [False, False]


# --- outcomes ------------------------------------------------------------------------------------


def test_outcomes() -> None:
    r = compiled(
        "campaign a { window 2026-01-01 .. 2026-12-31  when user.level >= 1  when user.is_new  deny when user.risk_score > 50  discount { value 1 off } }\n"  # noqa: E501
        "campaign b { window 2026-01-01 .. 2026-12-31  deny when user.risk_score > 50  deny when user.is_new  discount { value 1 off } }\n"  # noqa: E501
        "campaign c { window 2026-01-01 .. 2026-12-31  discount { value 1 off } }\n"
    )
    assert run(r, request(level=1, is_new=True)) == [OK, DENIED, OK]
    assert run(r, request(level=1, is_new=True, risk_score=60)) == [DENIED, DENIED, OK]
    assert run(r, request(level=0, is_new=True, risk_score=60)) == [NOT_ELIGIBLE, DENIED, OK]
    assert run(r, request(level=1, is_new=False)) == [NOT_ELIGIBLE, OK, OK]


# --- shared values: computed once, and only when needed -----------------------------------------


class CountingLists(dict[str, frozenset[str]]):
    def __init__(self, **lists: frozenset[str]) -> None:
        super().__init__(lists)
        self.reads = 0

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.reads += 1
        return super().get(key, default)


class CountingItems(tuple[Item, ...]):
    passes = 0

    def __iter__(self) -> Iterator[Item]:
        type(self).passes += 1
        return super().__iter__()


RISKY = 'segment risky = user.id in list "blocked"\n'


def campaigns_denying_risky(n: int) -> CompiledRuleset:
    body = "".join(
        f"campaign c{i} {{ window 2026-01-01 .. 2026-12-31  when user.level >= {i}  deny when risky  discount {{ value 1 off }} }}\n"  # noqa: E501
        for i in range(n)
    )
    return compiled(RISKY + body)


@pytest.mark.parametrize(("level", "reads"), [(-1, 0), (0, 1), (1, 1), (5, 1)])
def test_a_segment_is_computed_once_and_only_when_needed(level: int, reads: int) -> None:
    r = campaigns_denying_risky(4)
    lists = CountingLists(blocked=frozenset({"u1"}))
    r.check_all(request(level=level, user_id="u1"), r.bind(request()), lists)
    assert lists.reads == reads


def test_a_segment_every_campaign_needs_is_computed_up_front() -> None:
    r = compiled(
        RISKY + f"campaign a {{ window 2026-01-01 .. 2026-12-31  when not risky  {DISCOUNT} }}\n"
        "campaign b { window 2026-01-01 .. 2026-12-31  when risky  discount { value 1 off } }\n"
    )
    body = r.generated_source.split("def check_all")[1].split("\ndef ")[0]
    assert "s0 = " in body and "s0 if s0 is not None" not in body and body.count("blocked") == 1
    lists = CountingLists(blocked=frozenset({"u1"}))
    assert r.check_all(request(user_id="u1"), r.bind(request()), lists) == [NOT_ELIGIBLE, OK]
    assert lists.reads == 1


def test_equal_aggregates_share_one_pass_over_the_items() -> None:
    lens = 'count(items where item.category == "lens")'
    r = conditions(
        f"{lens} >= 1",
        f"{lens} >= 3",
        "any(items where item.qty > 1)",
        "sum(item.price for items) > 0",
    )
    body = r.generated_source.split("def check_all")[1].split("\ndef ")[0]
    assert body.count("for it in") == 1 and body.count('"lens"') + body.count("'lens'") == 1
    CountingItems.passes = 0
    ctx = request()
    ctx.items = CountingItems((item(100, 2, "lens"),))
    assert r.check_all(ctx, r.bind(ctx), {}) == [OK, NOT_ELIGIBLE, OK, OK]
    assert CountingItems.passes == 1


def test_an_aggregate_behind_a_short_circuit_waits_until_needed() -> None:
    lens = 'count(items where item.category == "lens") >= 1'
    r = conditions(f"user.level >= 1 and {lens}", f"user.level >= 2 and {lens}", "user.level >= 3")
    for level, passes, expected in [(0, 0, [1, 1, 1]), (1, 1, [0, 1, 1]), (2, 1, [0, 0, 1])]:
        CountingItems.passes = 0
        ctx = request(level=level)
        ctx.items = CountingItems((item(100, 1, "lens"),))
        assert r.check_all(ctx, r.bind(ctx), {}) == expected
        assert CountingItems.passes == passes


# --- item filters ----------------------------------------------------------------------------


def test_item_filters() -> None:
    r = compiled(
        "segment members = user.level >= 1\n"
        "campaign a { window 2026-01-01 .. 2026-12-31\n"
        '  discount { value 1 off  on items where item.brand == "Acme" and members } }\n'
        "campaign b { window 2026-01-01 .. 2026-12-31\n"
        "  discount { value 1 off\n"
        '    on items where "sale" in item.tags or item.price * item.qty >= 100 } }\n',
        context="item.brand: string",
    )
    ctx = request(
        (
            item(10000, 1, brand="Acme"),
            Item(0, "B", "", "", 5000, 2, ("sale",), {"brand": "Other"}),
        ),
        level=1,
    )
    bound = r.bind(ctx)
    brand, big = (c.discount.filter for c in r.campaigns if c.discount)  # type: ignore[union-attr]
    assert brand is not None and big is not None
    assert [brand.test(i, ctx, bound, {}) for i in ctx.items] == [True, False]
    assert [big.test(i, ctx, bound, {}) for i in ctx.items] == [True, True]
    ctx.level = 0
    assert [brand.test(i, ctx, bound, {}) for i in ctx.items] == [False, False]


# --- one loop over the items, dispatched on the category ------------------------------------


def test_category_aggregates_share_one_dispatch_per_line() -> None:
    r = conditions(
        'sum(item.price * item.qty for items where item.category == "books") >= 20',
        'any(items where item.category == "toys" and item.price >= 15)',
        'user.level >= 1 and count(items where item.category == "books") >= 2',
        'user.level >= 1 and any(items where item.category == "toys" and item.price >= 5)',
        'all(items where item.category == "books")',
        'user.level >= 2 and any(items where item.category == "lens")',
    )
    source = r.generated_source
    assert "if g_category == 'books':" in source and "elif g_category == 'toys':" in source
    assert "+= it.amount" in source and "it.price * it.qty" not in source
    # `all` is not dispatched; one lazy aggregate of a text nothing else tests stays lazy.
    check_all = source.split("def check_all")[1].split("\ndef ")[0]
    assert "agg_" in check_all
    carts = [
        (),
        (item(1000, 2, "books"),),
        (item(1000, 1, "books"), item(1600, 1, "toys")),
        (item(600, 1, "toys"), item(500, 1, "books"), item(700, 3, "books")),
        (item(900, 1, "lens"), item(2000, 1, "books")),
    ]
    expected = [  # `count` counts units (qty); `all` holds for an empty cart
        [False, False, False, False, True, False],
        [True, False, True, False, True, False],
        [False, True, False, True, False, False],
        [True, False, True, True, False, False],
        [True, False, False, False, False, True],
    ]
    for cart, want in zip(carts, expected, strict=True):
        assert holds(r, request(cart, level=2)) == want
    assert holds(r, request(carts[3], level=0)) == [True, False, False, False, False, False]


def test_tests_of_aggregates_computed_up_front_go_first() -> None:
    books = 'sum(item.price * item.qty for items where item.category == "books")'
    r = conditions(
        f"user.level >= 1 and {books} >= 20 and user.risk_score < 50",
        f"{books} >= 10",
        'user.level >= 2 and count(items where item.category == "lens") >= 1 and user.is_new',
    )
    source = r.generated_source.split("def passing_all")[1]
    assert "if a1 >= 2000 and ctx.level >= 1 and ctx.risk_score < 50:" in source
    # A lazy aggregate (a call) keeps its place: it is not computed up front.
    assert "if ctx.level >= 2 and agg_" in source
    line = item(1500, 2, "books")
    for level, risk, want in [(1, 10, [True, True, False]), (0, 10, [False, True, False]),
                              (1, 90, [False, True, False])]:  # fmt: skip
        assert holds(r, request((line,), level=level, risk_score=risk)) == want
    lens = item(100, 1, "lens")
    assert holds(r, request((lens,), level=2, is_new=True)) == [False, False, True]
