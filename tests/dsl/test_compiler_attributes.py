"""`CompiledRuleset.bind`: declared attributes typed and defaulted (LANGUAGE.md 3.2, 13.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dsl.attributes import bind, make_binder
from dsl.compiler import compile_text
from dsl.context import NO_ATTRIBUTES, Context, ContextError, Item
from dsl.model import AttributeDecl, CompiledRuleset

CONTEXT = """context {
    user.orders: int = 0
    user.ratio: decimal
    user.vip: bool
    user.city: string = "unknown"
    user.since: datetime = 2026-01-01
    user.expires: datetime
    user.grace: duration = 1h
    user.tags2: list of string
    user.lucky: list of int = [7, -1]
    cart.coupon_channel: string = "none"
    cart.floor: money = 9.9
    item.brand: string
    item.cost: money
}"""


def ruleset(currency: str = "CNY") -> CompiledRuleset:
    text = f'ruleset "t"\ntimezone "Asia/Shanghai"\ncurrency {currency}\n{CONTEXT}\n'
    text += "campaign c { window 2026-01-01 .. 2026-01-02  discount { value 1 off } }\n"
    return compile_text(text, "t.promo")[0]


def request(
    user: dict[str, Any] | None = None, cart: dict[str, Any] | None = None, *items: dict[str, Any]
) -> Context:
    ctx = Context(now=0, currency="CNY")
    ctx.user_attributes = {"expires": "2026-02-01T00:00:00Z", **(user or {})}
    ctx.cart_attributes = cart or {}
    ctx.items = tuple(Item(i, f"S{i}", "", "", 100, 1, (), a) for i, a in enumerate(items))
    return ctx


def test_defaults_and_zeros() -> None:
    bound = ruleset().bind(request({}, {}, {}, {"brand": "Acme"}))
    assert bound.user == (
        0, Decimal(0), False, "unknown", 1767196800, 1769904000, 3600, (), (7, -1),
    )  # fmt: skip
    assert bound.cart == ("none", 990)
    assert bound.items == (("", 0), ("Acme", 0))


def test_values_take_their_runtime_form() -> None:
    user = {
        "orders": 3, "ratio": "-0.125", "vip": True, "city": "Hangzhou",
        "since": "2026-01-01T08:00:00+08:00", "expires": "2026-01-01T00:00:00.9Z",
        "grace": 60, "tags2": ["a", "b"], "lucky": [1, 2], "ignored": object(),
    }  # fmt: skip
    bound = ruleset().bind(request(user, {"floor": "12.5"}, {"cost": 3}, {"cost": "0.07"}))
    assert bound.user == (
        3, Decimal("-0.125"), True, "Hangzhou", 1767225600, 1767225600, 60, ("a", "b"), (1, 2),
    )  # fmt: skip
    assert bound.cart == ("none", 1250)
    assert bound.items == (("", 300), ("", 7))


@pytest.mark.parametrize(
    ("user", "cart", "item", "path"),
    [
        ({"orders": True}, {}, {}, "user.attributes.orders"),
        ({"orders": 1.0}, {}, {}, "user.attributes.orders"),
        ({"orders": "1"}, {}, {}, "user.attributes.orders"),
        ({"ratio": 0.5}, {}, {}, "user.attributes.ratio"),
        ({"ratio": "1e3"}, {}, {}, "user.attributes.ratio"),
        ({"vip": 1}, {}, {}, "user.attributes.vip"),
        ({"city": 5}, {}, {}, "user.attributes.city"),
        ({"since": "2026-01-01T00:00:00"}, {}, {}, "user.attributes.since"),
        ({"since": 1767196800}, {}, {}, "user.attributes.since"),
        ({"grace": "1h"}, {}, {}, "user.attributes.grace"),
        ({"tags2": "a"}, {}, {}, "user.attributes.tags2"),
        ({"tags2": ["a", 1]}, {}, {}, "user.attributes.tags2[1]"),
        ({"lucky": [1, True]}, {}, {}, "user.attributes.lucky[1]"),
        ({}, {"floor": "1.005"}, {}, "cart.attributes.floor"),
        ({}, {"floor": 9.9}, {}, "cart.attributes.floor"),
        ({}, {"floor": "-1"}, {}, "cart.attributes.floor"),
        ({}, {"floor": -1}, {}, "cart.attributes.floor"),
        ({}, {"floor": "01.5"}, {}, "cart.attributes.floor"),
        ({}, {"floor": "1."}, {}, "cart.attributes.floor"),
        ({}, {}, {"cost": "1e2"}, "cart.items[1].attributes.cost"),
        ({}, {}, {"brand": None}, "cart.items[1].attributes.brand"),
        # JSON null is a wrong value for every type, not only those read as they are.
        ({"ratio": None}, {}, {}, "user.attributes.ratio"),
        ({"expires": None}, {}, {}, "user.attributes.expires"),
        ({"lucky": None}, {}, {}, "user.attributes.lucky"),
        ({}, {"floor": None}, {}, "cart.attributes.floor"),
        ({}, {}, {"cost": None}, "cart.items[1].attributes.cost"),
    ],
)
def test_wrong_types_name_the_field(
    user: dict[str, Any], cart: dict[str, Any], item: dict[str, Any], path: str
) -> None:
    with pytest.raises(ContextError) as caught:
        ruleset().bind(request(user, cart, {}, item))
    assert caught.value.path == path


def test_a_datetime_without_default_is_required() -> None:
    ctx = request()
    ctx.user_attributes = {}
    with pytest.raises(ContextError) as caught:
        ruleset().bind(ctx)
    assert caught.value.path == "user.attributes.expires"
    assert "required" in caught.value.message


def test_money_in_a_currency_without_minor_units() -> None:
    decls = [AttributeDecl("cart", "floor", "money", None)]
    ctx = request()
    ctx.cart_attributes = {"floor": "500"}
    assert bind(decls, 0, ctx).cart == (500,)
    ctx.cart_attributes = {"floor": "500.0"}
    with pytest.raises(ContextError):
        bind(decls, 0, ctx)


def test_no_declarations_bind_nothing() -> None:
    assert make_binder([], 2)(request()) is NO_ATTRIBUTES


@pytest.mark.parametrize("type_name", ["money", "decimal", "datetime", "list of int", "int"])
def test_one_declared_attribute_binds_like_several(type_name: str) -> None:
    """The binder of a single user attribute reads it inline: same values, same errors."""
    one = make_binder([AttributeDecl("user", "a", type_name, None)], 2)
    two = make_binder(
        [AttributeDecl("user", "a", type_name, None), AttributeDecl("user", "z", "int", None)], 2
    )
    samples: list[Any] = [None, 5, "5", "2026-01-01T00:00:00Z", [1, 2], True, "x", {}]
    for value in [*samples, "missing"]:
        ctx = Context(now=0, currency="CNY")
        ctx.user_attributes = {} if value == "missing" else {"a": value}
        outcomes = []
        for binder in (one, two):
            try:
                outcomes.append(("ok", binder(ctx).user[0]))
            except ContextError as exc:
                outcomes.append(("error", exc.path, exc.message))
        assert outcomes[0] == outcomes[1], (type_name, value)
