"""Coupon terms frozen at issue and thawed at redeem (LANGUAGE.md 7.2, 10.9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.compiler import compile_text
from dsl.context import Context, ContextError, Item
from dsl.model import CompiledRuleset, CouponSpec
from dsl.terms import freeze, thaw

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples").glob("*.promo")
)


def specs(r: CompiledRuleset) -> list[CouponSpec]:
    found = []
    for c in r.campaigns:
        found += [s for reward in c.rewards for s in reward.coupons]
        found += [p.coupon for p in (c.lottery.prizes if c.lottery else ()) if p.coupon]
    return found


def rules(
    context: str, coupon: str, *, tz: str = "Asia/Shanghai", currency: str = "CNY"
) -> CompiledRuleset:
    text = f'ruleset "t"\ntimezone "{tz}"\ncurrency {currency}\ncontext {{\n{context}\n}}\n'
    text += f"campaign c {{ window 2026-01-01 .. 2026-01-02\n coupon k {{ {coupon} }} }}\n"
    return compile_text(text, "t.promo")[0]


def line(
    price: int = 1000, category: str = "", tags: tuple[str, ...] = (), **attributes: Any
) -> Item:
    return Item(0, "SKU", category, "s1", price, 1, tags, attributes)


CTX = Context(now=0, currency="CNY")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_round_trip_of_every_example_coupon(path: Path) -> None:
    r, _ = compile_text(path.read_text(encoding="utf-8"), path.name)
    for spec in specs(r):
        terms_id, text = freeze(spec, r)
        assert len(terms_id) == 16 and freeze(spec, r) == (terms_id, text)
        assert thaw(text) == spec.terms
        doc = json.loads(text)
        assert set(doc) == {
            "benefit",
            "cap",
            "min_spend",
            "filter",
            "attributes",
            "currency",
            "minor_units",
            "timezone",
        }
        assert text == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_thawed_filters_read_raw_item_attributes() -> None:
    r = rules(
        'item.brand: string = "none"\nitem.cost: money\nitem.ratio: decimal\n'
        "item.since: datetime = 2026-01-01\nitem.other: int",
        'value 10% off  cap 5  on items where item.brand == "Acme" and item.cost >= 1.5 '
        "and item.ratio * 2 < 1 and item.since >= 2026-06-01",
    )
    (spec,) = specs(r)
    _, text = freeze(spec, r)
    attrs = json.loads(text)["attributes"]
    assert [a["name"] for a in attrs] == ["brand", "cost", "ratio", "since"]  # not `other`
    test = thaw(text).filter.test  # type: ignore[union-attr]
    good = {"brand": "Acme", "cost": "1.50", "ratio": "0.49", "since": "2026-06-01T00:00:00+08:00"}
    assert test(line(**good), CTX, None, {}) is True  # type: ignore[arg-type]
    for name, value in [
        ("brand", "X"),
        ("cost", "1.49"),
        ("ratio", "0.5"),
        ("since", "2026-05-31T23:59:59+08:00"),
    ]:
        assert test(line(**{**good, name: value}), CTX, None, {}) is False  # type: ignore[arg-type]
    with pytest.raises(ContextError) as caught:
        test(line(**{**good, "cost": 1.5}), CTX, None, {})  # type: ignore[arg-type]
    assert caught.value.path == "cart.items[0].attributes.cost"


def test_thawed_filters_use_the_frozen_defaults_and_timezone() -> None:
    coupon = 'value 5 off  on items where item.brand == "none" and item.since < 2026-06-01'
    kolkata = rules(
        'item.brand: string = "none"\nitem.since: datetime = 2026-05-31 23:00',
        coupon,
        tz="Asia/Kolkata",
    )
    shanghai = rules('item.brand: string = "none"\nitem.since: datetime = 2026-05-31 23:00', coupon)
    (k,), (s,) = specs(kolkata), specs(shanghai)
    k_id, k_text = freeze(k, kolkata)
    s_id, s_text = freeze(s, shanghai)
    assert k_id != s_id
    since = {"since": "2026-05-31T18:00:00Z"}  # 23:30 in Kolkata, 02:00 in Shanghai
    assert thaw(k_text).filter.test(line(), CTX, None, {})  # type: ignore[union-attr, arg-type]
    assert thaw(k_text).filter.test(line(**since), CTX, None, {})  # type: ignore[union-attr, arg-type]
    assert not thaw(s_text).filter.test(line(**since), CTX, None, {})  # type: ignore[union-attr, arg-type]


def test_terms_ids_follow_the_terms_only() -> None:
    def frozen(coupon: str, context: str = "item.brand: string") -> tuple[str, str]:
        r = rules(context, coupon)
        return freeze(specs(r)[0], r)

    base = frozen(
        'value 5 off  min spend 10  on items where item.brand == "A"  valid 7d after claim'
    )
    same = frozen(
        'value 5 off  min spend 10  on items where item.brand == "A"  valid 9d after claim'
    )
    assert base == same  # validity is per coupon, not part of the terms
    assert base[0] != frozen('value 5 off  min spend 11  on items where item.brand == "A"')[0]
    assert base[0] != frozen('value 5 off  min spend 10  on items where item.brand == "B"')[0]
    assert (
        base[0]
        != frozen(
            'value 5 off  min spend 10  on items where item.brand == "A"',
            'item.brand: string = "A"',
        )[0]
    )
    assert frozen("free shipping  cap 15")[1] != frozen("free shipping  cap 16")[1]
    assert json.loads(frozen("value 12.5% off  cap 15")[1])["benefit"] == {
        "kind": "percent_off",
        "percent": "25/2",
    }


def test_equal_filters_compile_once() -> None:
    a = rules("item.brand: string", 'value 5 off  on items where item.brand == "A"')
    b = rules("item.brand: string", 'value 6 off  on items where item.brand == "A"')
    ta, tb = thaw(freeze(specs(a)[0], a)[1]), thaw(freeze(specs(b)[0], b)[1])
    assert ta != tb
    assert ta.filter is tb.filter and ta.filter is not None
    assert ta.filter.item_only and ta.filter.key.startswith("terms:")
    assert thaw(freeze(specs(a)[0], a)[1]) is ta


def test_filters_without_attributes() -> None:
    r = rules(
        "item.brand: string",
        'value 5 off  on items where item.category in ["shoes"] and not ("x" in item.tags)',
    )
    terms = thaw(freeze(specs(r)[0], r)[1])
    assert terms.filter is not None
    assert terms.filter.test(line(category="shoes"), CTX, None, {})  # type: ignore[arg-type]
    assert not terms.filter.test(line(category="shoes", tags=("x",)), CTX, None, {})  # type: ignore[arg-type]
