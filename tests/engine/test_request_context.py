"""engine/context.py: JSON contexts of LANGUAGE.md 4, and the errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from dsl.context import ContextError
from dsl.localtime import parse_instant
from engine.context import normalise_ip, parse_context, parse_money, resolve_currency

NOW = parse_instant("2026-11-11T10:00:00+08:00")


def parse(raw: dict[str, Any], currency: str = "CNY", k: int = 2) -> Any:
    return parse_context(raw, now=NOW, currency=currency, minor_units=k)


def cart(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"cart": {"items": list(items), **fields}}


def error_path(raw: dict[str, Any], currency: str = "CNY", k: int = 2) -> str:
    with pytest.raises(ContextError) as caught:
        parse(raw, currency, k)
    return caught.value.path


def test_the_example_context_of_section_4() -> None:
    ctx = parse(
        {
            "user": {"id": "u1001", "level": 2, "tags": ["vip"], "is_new": False,
                     "phone_verified": True, "risk_score": 12,
                     "registered_at": "2025-03-02T09:15:00+08:00",
                     "attributes": {"city": "Hangzhou"}},
            "cart": {"currency": "CNY", "shipping": "10.00",
                     "items": [{"sku": "SHOE-42", "category": "shoes", "shop": "s88",
                                "price": "399.00", "qty": 1, "tags": ["new_arrival"],
                                "attributes": {"brand": "Feiyue"}}]},
            "channel": "app", "region": "CN-31",
            "device": {"id": "d-7f3a"}, "ip": "203.0.113.7",
            "referral": {"event": "first_order", "inviter": "u1001", "invitee": "u2002"},
        }
    )  # fmt: skip
    assert (ctx.user_id, ctx.level, ctx.user_tags, ctx.is_new) == ("u1001", 2, ("vip",), False)
    assert (ctx.phone_verified, ctx.risk_score) == (True, 12)
    assert ctx.registered_at == parse_instant("2025-03-02T09:15:00+08:00")
    assert ctx.account_age == NOW - ctx.registered_at
    assert ctx.user_attributes == {"city": "Hangzhou"}
    assert (ctx.currency, ctx.shipping, ctx.total) == ("CNY", 1000, 39900)
    item = ctx.items[0]
    assert (item.index, item.sku, item.category, item.shop) == (0, "SHOE-42", "shoes", "s88")
    assert (item.price, item.qty, item.amount, item.tags) == (39900, 1, 39900, ("new_arrival",))
    assert item.attributes == {"brand": "Feiyue"}
    assert (ctx.channel, ctx.region, ctx.device_id) == ("app", "CN-31", "d-7f3a")
    assert (ctx.ip, ctx.ip_scope) == ("203.0.113.7", "203.0.113.7")
    assert (ctx.referral_event, ctx.referral_inviter) == ("first_order", "u1001")
    assert (ctx.referral_invitee, ctx.referral_invitee_device) == ("u2002", "")
    assert ctx.now == NOW


def test_defaults_of_an_empty_context() -> None:
    ctx = parse({})
    assert ctx.items == () and ctx.total == 0 and ctx.shipping == 0
    assert ctx.user_id == "" and ctx.level == 0 and ctx.user_tags == ()
    assert ctx.registered_at == NOW and ctx.account_age == 0
    assert ctx.ip == ctx.ip_scope == "" and ctx.currency == "CNY"


def test_account_age_is_never_negative() -> None:
    ctx = parse({"user": {"registered_at": "2027-01-01T00:00:00Z"}})
    assert ctx.account_age == 0
    assert parse({"user": {"registered_at": "2026-11-04T10:00:00+08:00"}}).account_age == 7 * 86400


@pytest.mark.parametrize(
    ("value", "k", "minor"),
    [("19.9", 2, 1990), ("19.90", 2, 1990), (5, 2, 500), ("0", 2, 0), (0, 2, 0),
     ("0.01", 2, 1), ("500", 0, 500), (500, 0, 500), ("1234567.89", 2, 123456789),
     ("0.5", 3, 500), ("0.00", 2, 0), ("10.05", 2, 1005), ("7.000", 3, 7000)],
)  # fmt: skip
def test_accepted_money(value: object, k: int, minor: int) -> None:
    assert parse_money(value, k, "p") == minor
    # A line's price takes its own (inlined) path: the same answers.
    (line,) = parse(cart({"sku": "A", "price": value, "qty": 1}), k=k).items
    assert line.price == minor


@pytest.mark.parametrize(
    ("value", "k"),
    [("19.999", 2), (19.99, 2), (199.0, 2), (True, 2), (False, 2), ("1e1", 2), (1e3, 2),
     ("019.90", 2), ("-19.90", 2), ("+5", 2), (-5, 2), ("500.0", 0), ("500.", 2), (".5", 2),
     ("NaN", 2), (float("nan"), 2), ("", 2), (" 5", 2), ("5 ", 2), ("5\n", 2), ("1_000", 2),
     ("１２", 2), (None, 2), ([5], 2), ("00", 2), ("9" * 40, 2), ("1.2.34", 2), ("1..23", 2),
     ("01.23", 2), ("1_2.34", 2), ("+1.23", 2), (" 1.23", 2), ("1.2²", 2), ("１.23", 2),
     ("12.", 0), ("9" * 30 + ".99", 2)],
)  # fmt: skip
def test_refused_money(value: object, k: int) -> None:
    with pytest.raises(ContextError) as caught:
        parse_money(value, k, "cart.items[0].price")
    assert caught.value.path == "cart.items[0].price"
    message = caught.value.message
    assert error_path(cart({"sku": "A", "price": value, "qty": 1}), k=k) == "cart.items[0].price"
    with pytest.raises(ContextError) as caught:
        parse(cart({"sku": "A", "price": value, "qty": 1}), k=k)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (cart({"sku": "A", "price": "19.999", "qty": 1}), "cart.items[0].price"),
        (cart({"sku": "A", "price": 19.99, "qty": 1}), "cart.items[0].price"),
        (cart({"sku": "A", "price": True, "qty": 1}), "cart.items[0].price"),
        (cart({"sku": "A", "price": "19.90", "qty": 1}, shipping="1e1"), "cart.shipping"),
        (cart({"sku": "A", "price": "019.90", "qty": 1}), "cart.items[0].price"),
        (
            cart({"sku": "A", "price": "1", "qty": 1}, {"sku": "B", "price": "-19.90", "qty": 1}),
            "cart.items[1].price",
        ),
        (cart({"sku": "A", "price": "19.90", "qty": True}), "cart.items[0].qty"),
        (cart({"sku": "A", "price": "10.00", "qty": 0}), "cart.items[0].qty"),
        (cart({"sku": "A", "price": "10.00", "qty": 1.0}), "cart.items[0].qty"),
        (cart({"sku": "A", "price": "10.00", "qty": "1"}), "cart.items[0].qty"),
        (cart({"sku": "A", "price": "10.00"}), "cart.items[0].qty"),
        (cart({"price": "10.00", "qty": 1}), "cart.items[0].sku"),
        (cart({"sku": 7, "price": "10.00", "qty": 1}), "cart.items[0].sku"),
        (cart({"sku": "A", "qty": 1}), "cart.items[0].price"),
        (cart({"sku": "A", "price": "1", "qty": 1, "category": 3}), "cart.items[0].category"),
        (cart({"sku": "A", "price": "1", "qty": 1, "shop": None}), "cart.items[0].shop"),
        (cart({"sku": "A", "price": "1", "qty": 1, "tags": "x"}), "cart.items[0].tags"),
        (cart({"sku": "A", "price": "1", "qty": 1, "tags": [1]}), "cart.items[0].tags"),
        (cart({"sku": "A", "price": "1", "qty": 1, "attributes": []}), "cart.items[0].attributes"),
        (cart({"sku": "A", "price": "10.00", "qty": 2}, total="25.00"), "cart.total"),
        (cart({"sku": "A", "price": "10.00", "qty": 2}, currency="USD"), "cart.currency"),
        (cart({"sku": "A", "price": "10.00", "qty": 2}, attributes="x"), "cart.attributes"),
        ({"cart": {"items": {"sku": "A"}}}, "cart.items"),
        ({"cart": {"items": ["A"]}}, "cart.items[0]"),
        ({"cart": []}, "cart"),
        ({"user": "u1"}, "user"),
        ({"user": {"id": 1}}, "user.id"),
        ({"user": {"level": True}}, "user.level"),
        ({"user": {"level": "2"}}, "user.level"),
        ({"user": {"level": 2.0}}, "user.level"),
        ({"user": {"is_new": 1}}, "user.is_new"),
        ({"user": {"phone_verified": "true"}}, "user.phone_verified"),
        ({"user": {"risk_score": None}}, "user.risk_score"),
        ({"user": {"tags": "vip"}}, "user.tags"),
        ({"user": {"registered_at": "2025-03-02T09:15:00"}}, "user.registered_at"),
        ({"user": {"registered_at": "yesterday"}}, "user.registered_at"),
        ({"user": {"registered_at": 1700000000}}, "user.registered_at"),
        ({"user": {"attributes": ["city"]}}, "user.attributes"),
        ({"channel": 1}, "channel"),
        ({"region": None}, "region"),
        ({"device": "d1"}, "device"),
        ({"device": {"id": 5}}, "device.id"),
        ({"referral": {"invitee": 5}}, "referral.invitee"),
        ({"ip": 167772161}, "ip"),
    ],
)
def test_invalid_contexts_name_the_field(raw: dict[str, Any], path: str) -> None:
    assert error_path(raw) == path


def test_accepted_money_forms_of_request_errors_yaml() -> None:
    ctx = parse(
        cart({"sku": "A", "price": "19.9", "qty": 1}, {"sku": "B", "price": 5, "qty": 2},
             {"sku": "C", "price": "0", "qty": 1}, shipping=0, total="29.90")
    )  # fmt: skip
    assert [i.amount for i in ctx.items] == [1990, 1000, 0]
    assert ctx.total == 2990 and ctx.shipping == 0


def test_money_without_minor_units() -> None:
    ctx = parse(cart({"sku": "A", "price": "500", "qty": 2}), "JPY", 0)
    assert ctx.total == 1000
    assert error_path(cart({"sku": "A", "price": "500.0", "qty": 1}), "JPY", 0) == (
        "cart.items[0].price"
    )


@pytest.mark.parametrize(
    ("text", "normal", "scope"),
    [
        ("203.0.113.7", "203.0.113.7", "203.0.113.7"),
        ("0.0.0.0", "0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255", "255.255.255.255"),
        ("2001:DB8:0:0:0:0:0:7", "2001:db8::7", "2001:db8::/64"),
        ("2001:db8:1:2::7", "2001:db8:1:2::7", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1", "2001:db8::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7", "203.0.113.7"),
        ("::FFFF:cb00:7107", "203.0.113.7", "203.0.113.7"),
        ("::1", "::1", "::/64"),
    ],
)
def test_ip_normalisation(text: str, normal: str, scope: str) -> None:
    assert normalise_ip(text) == (normal, scope)
    ctx = parse({"ip": text})
    assert (ctx.ip, ctx.ip_scope) == (normal, scope)


@pytest.mark.parametrize(
    "text",
    ["010.0.0.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "fe80::1%eth0", "1.2.3.4 ", " 1.2.3.4",
     "example.com", "::ffff:999.0.0.1", "1:2:3:4:5:6:7:8:9", "1.2.3.04", "١.2.3.4", "::g"],
)  # fmt: skip
def test_invalid_ips(text: str) -> None:
    assert error_path({"ip": text}) == "ip"


def test_an_empty_ip_is_no_ip() -> None:
    ctx = parse({"ip": ""})
    assert ctx.ip == ctx.ip_scope == ""


def test_fields_the_spec_does_not_define_are_ignored() -> None:
    ctx = parse({"now": "2020-01-01T00:00:00Z", "extra": [1], "user": {"account_age": 5}})
    assert ctx.now == NOW and ctx.account_age == 0


def test_the_context_must_be_an_object() -> None:
    with pytest.raises(ContextError):
        parse_context([], now=NOW, currency="CNY", minor_units=2)  # type: ignore[arg-type]


def test_resolve_currency() -> None:
    assert resolve_currency({"currency": "JPY"}, {"CNY", "JPY"}) == "JPY"
    assert resolve_currency({"items": []}, {"CNY"}) == "CNY"
    assert resolve_currency(None, ["CNY", "CNY"]) == "CNY"
    for raw_cart, loaded in [({"currency": "USD"}, {"CNY"}), ({}, {"CNY", "JPY"}),
                             ({"currency": 5}, {"CNY"}), (None, set())]:  # fmt: skip
        with pytest.raises(ContextError) as caught:
            resolve_currency(raw_cart, loaded)
        assert caught.value.path == "cart.currency"
