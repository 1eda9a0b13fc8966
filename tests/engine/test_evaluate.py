"""engine/evaluate.py (+ select.py, allocate.py): LANGUAGE.md 10.1 steps 3-8 on
hand-built campaigns: the worked examples of the spec and the evaluate expectations of the
shared case files (stages, allocation, groups, items_and_benefits, rounding, tiers,
evaluate_coupons)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

from dsl.context import NO_ATTRIBUTES, Item
from dsl.model import (
    BuyGet,
    Campaign,
    Every,
    FreeShipping,
    Gift,
    ItemFilter,
    PercentOff,
    Points,
    Save,
    SpendTiers,
    Stage,
    Terms,
    Window,
)
from dsl.model import ValueOff as Off
from engine.context import parse_context
from engine.evaluate import CouponInput, Explanation, OfferInput, evaluate_cart, to_json

Json = dict[str, Any]
HUGE = 10**12


def cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0"))


def where(text: str, test: Callable[[Item], bool]) -> ItemFilter:
    return ItemFilter(text, text, True, lambda item, ctx, bound, lists: test(item))


def tiers(*pairs: tuple[str, str]) -> SpendTiers:
    return SpendTiers(tuple((cents(t), Save(cents(s))) for t, s in pairs))


def campaign(
    cid: str,
    terms: Terms | None = None,
    *,
    stage: Stage = "platform",
    group: str | None = None,
    priority: int = 0,
    index: int = 0,
    ruleset: str = "r",
) -> Campaign:
    return Campaign(
        id=cid,
        title=None,
        ruleset_id=ruleset,
        index=index,
        tier=None,
        goal=None,
        window=Window(0, HUGE),
        schedule=(),
        priority=priority,
        group=f"{ruleset}:{group or cid}",
        group_name=group,
        stage=stage,
        referral=None,
        limits=(),
        budgets=(),
        kind="automatic" if terms else "coupons",
        discount=terms,
        rewards=(),
        lottery=None,
        check=lambda ctx, bound, lists: 0,
        fingerprint=cid,
    )


def ruleset(*campaigns: Campaign) -> list[Campaign]:
    """Give the campaigns their file positions, as a compiler would."""
    return [replace(c, index=i) for i, c in enumerate(campaigns)]


def order_of(campaigns: Sequence[Campaign]) -> dict[str, int]:
    ranked = sorted(campaigns, key=lambda c: (-c.priority, c.ruleset_id, c.index))
    return {c.id: i for i, c in enumerate(ranked)}


def coupon(
    code: str,
    owner: Campaign,
    terms: Terms | None,
    *,
    reward: str = "c",
    valid_until: int = HUGE,
    reason: str | None = None,
) -> tuple[str, Campaign, Terms | None, str, int, str | None]:
    return code, owner, terms, reward, valid_until, reason


def run(
    campaigns: Sequence[Campaign],
    items: Sequence[Json],
    *,
    shipping: str = "0",
    coupons: Sequence[tuple[str, Campaign, Terms | None, str, int, str | None]] = (),
    explain: bool = True,
    currency: tuple[str, int] = ("CNY", 2),
) -> Json:
    raw = {"cart": {"items": list(items), "shipping": shipping}}
    ctx = parse_context(raw, now=1, currency=currency[0], minor_units=currency[1])
    order = order_of(campaigns)
    offers = [OfferInput(c, NO_ATTRIBUTES, order[c.id]) for c in campaigns if c.discount]
    supplied = [
        CouponInput(code, owner, reward, terms, until, order[owner.id], NO_ATTRIBUTES, reason)
        for code, owner, terms, reward, until, reason in coupons
    ]
    outcome = evaluate_cart(ctx, currency[1], offers, supplied, {}, explain)
    return to_json(outcome)


def item(sku: str, price: str, qty: int = 1, **fields: Any) -> Json:
    return {"sku": sku, "price": price, "qty": qty, **fields}


def amounts(result: Json) -> dict[str, str]:
    return {d.get("code") or d["campaign"]: d["amount"] for d in result["discounts"]}


def allocations(result: Json, line: int) -> dict[str, str]:
    return {
        a.get("code") or a["campaign"]: a["amount"] for a in result["lines"][line]["allocations"]
    }


def explained(result: Json) -> dict[str, str]:
    return {e.get("code") or e["campaign"]: e["reason"] for e in result["explanations"]}


def nudges(result: Json) -> set[tuple[str, str, str]]:
    return {(n.get("code") or n["campaign"], n["spend_more"], n["save"]) for n in result["nudges"]}


def check_lines(result: Json) -> None:
    """What the case runner checks on every line: list less allocations is paid, >= 0."""
    total = 0
    for line in result["lines"]:
        taken = sum(cents(a["amount"]) for a in line["allocations"])
        assert cents(line["list"]) - taken == cents(line["paid"]) >= 0
        total += cents(line["paid"])
    ship = result["shipping"]
    taken = sum(cents(a["amount"]) for a in ship["allocations"])
    assert cents(ship["fee"]) - taken == cents(ship["paid"]) >= 0
    assert cents(result["paid"]) == total + cents(ship["paid"])
    discount = sum(cents(d["amount"]) for d in result["discounts"])
    assert cents(result["total_discount"]) == discount


# --- the worked example of LANGUAGE.md 10.1 ----------------------------------------------


def test_the_example_answer_of_10_1() -> None:
    s88 = where('item.shop == "s88"', lambda i: i.shop == "s88")
    shoes = where('item.category == "shoes"', lambda i: i.category == "shoes")
    camps = ruleset(
        campaign("shoes10", Terms(PercentOff(Fraction(10)), filter=shoes), stage="item"),
        campaign("shop_coupon", stage="shop"),
        campaign("spend_and_save", Terms(tiers(("200", "20"), ("400", "50"), ("800", "120")))),
        campaign("member_gift", Terms(Gift("TOTE-01", 1))),
        campaign("double_points", Terms(Points(2, 100))),
        campaign("free_ship", Terms(FreeShipping())),
    )
    s20 = Terms(Off(2000), min_spend=19900, filter=s88)
    result = run(
        camps,
        [
            item("SHOE-42", "399.00", category="shoes", shop="s88"),
            item("SOCK-3", "29.50", 2, shop="s88"),
        ],
        shipping="10.00",
        coupons=[coupon("K7Q2", camps[1], s20, reward="s20")],
        explain=False,
    )
    assert result == {
        "discounts": [
            {"campaign": "shoes10", "amount": "39.90", "stage": "item"},
            {
                "campaign": "shop_coupon",
                "reward": "s20",
                "code": "K7Q2",
                "amount": "20.00",
                "stage": "shop",
            },
            {"campaign": "spend_and_save", "amount": "20.00", "stage": "platform"},
            {
                "campaign": "member_gift",
                "amount": "0.00",
                "stage": "platform",
                "gift": {"sku": "TOTE-01", "qty": 1},
            },
            {"campaign": "double_points", "amount": "0.00", "stage": "platform", "points": 796},
            {"campaign": "free_ship", "amount": "10.00", "stage": "shipping"},
        ],
        "total_discount": "89.90",
        "lines": [
            {
                "line": 0,
                "sku": "SHOE-42",
                "qty": 1,
                "list": "399.00",
                "allocations": [
                    {"campaign": "shoes10", "stage": "item", "amount": "39.90"},
                    {
                        "campaign": "shop_coupon",
                        "reward": "s20",
                        "code": "K7Q2",
                        "stage": "shop",
                        "amount": "17.18",
                    },
                    {"campaign": "spend_and_save", "stage": "platform", "amount": "17.18"},
                ],
                "paid": "324.74",
            },
            {
                "line": 1,
                "sku": "SOCK-3",
                "qty": 2,
                "list": "59.00",
                "allocations": [
                    {
                        "campaign": "shop_coupon",
                        "reward": "s20",
                        "code": "K7Q2",
                        "stage": "shop",
                        "amount": "2.82",
                    },
                    {"campaign": "spend_and_save", "stage": "platform", "amount": "2.82"},
                ],
                "paid": "53.36",
            },
        ],
        "shipping": {
            "fee": "10.00",
            "allocations": [{"campaign": "free_ship", "stage": "shipping", "amount": "10.00"}],
            "paid": "0.00",
        },
        "paid": "378.10",
        "claimable": [],
        "nudges": [{"campaign": "spend_and_save", "spend_more": "1.90", "save": "50.00"}],
        "explanations": [],
    }


def test_engine_explanations_and_claimable_go_into_the_answer() -> None:
    camps = ruleset(campaign("ten", Terms(Off(1000))))
    ctx = parse_context(
        {"cart": {"items": [item("A", "5.00")]}}, now=1, currency="CNY", minor_units=2
    )
    offers = [OfferInput(camps[0], NO_ATTRIBUTES, 0)]
    unknown = CouponInput("ZZZ", None, None, None, 0, -1, reason="unknown_code")
    outcome = evaluate_cart(ctx, 2, offers, [unknown], {}, explain=True)
    body = to_json(
        outcome,
        claimable=[{"campaign": "flash", "reward": "c30", "available": True}],
        explanations=[Explanation("new_user_deal", "not_eligible")],
    )
    assert body["claimable"] == [{"campaign": "flash", "reward": "c30", "available": True}]
    assert body["explanations"] == [
        {"campaign": "new_user_deal", "reason": "not_eligible"},
        {"campaign": None, "code": "ZZZ", "reason": "unknown_code"},
    ]
    assert amounts(body) == {"ten": "5.00"}


# --- supplied coupons: evaluate_coupons.yaml ------------------------------------------------


def test_each_unused_supplied_coupon_is_explained_by_its_code() -> None:
    books = where('item.category == "books"', lambda i: i.category == "books")
    camps = ruleset(
        campaign("quick", group="wallet"),
        campaign("big", group="wallet"),
        campaign("mid", group="wallet"),
        campaign("tiny", group="wallet"),
        campaign("books"),
    )
    quick, big, mid, tiny, book = camps
    supplied = [
        coupon("Q", quick, Terms(Off(1000), min_spend=5000), reason="expired"),
        coupon("B", big, Terms(Off(4000), min_spend=30000)),
        coupon("M", mid, Terms(Off(1500), min_spend=10000)),
        coupon("T", tiny, Terms(Off(500))),
        coupon("BK", book, Terms(Off(800), filter=books)),
        coupon("OTHER", mid, None, reason="not_owner"),
    ]
    r = run(camps, [item("TOY", "120.00", 2, category="toys")], coupons=supplied)
    assert amounts(r) == {"M": "15.00"} and r["total_discount"] == "15.00"
    assert r["discounts"][0] == {
        "campaign": "mid",
        "reward": "c",
        "code": "M",
        "amount": "15.00",
        "stage": "platform",
    }
    assert nudges(r) == {("B", "60.00", "40.00")}
    assert r["nudges"] == [{"campaign": "big", "code": "B", "spend_more": "60.00", "save": "40.00"}]
    assert explained(r) == {
        "Q": "expired",
        "B": "below_min_spend",
        "T": "outranked",
        "BK": "no_applicable_items",
        "OTHER": "not_owner",
    }
    assert {"campaign": "tiny", "reward": "c", "code": "T", "reason": "outranked"} in r[
        "explanations"
    ]
    r = run(
        camps,
        [item("TOY", "120.00", 2)],
        coupons=[
            coupon("M", mid, None, reason="already_redeemed"),
            coupon("T", tiny, Terms(Off(500))),
        ],
    )
    assert amounts(r) == {"T": "5.00"} and explained(r) == {"M": "already_redeemed"}


def test_double11_coupon_against_the_platform_tiers() -> None:
    not_gift = where("not gift card or top up", lambda i: i.category not in ("gift_card", "top_up"))
    appliances = where("appliances", lambda i: i.category in ("appliance", "kitchen"))
    camps = ruleset(
        campaign(
            "spend_and_save",
            Terms(tiers(("200", "20"), ("400", "50"), ("800", "120")), filter=not_gift),
            group="platform",
            priority=10,
        ),
        campaign(
            "appliance_every",
            Terms(Every(30000, 4000), cap=40000, filter=appliances),
            group="appliances",
        ),
        campaign("member_shipping", Terms(FreeShipping(), min_spend=9900), group="delivery"),
        campaign("flash_coupon", group="platform"),
    )
    c30 = coupon("C30", camps[3], Terms(Off(3000), min_spend=19900, filter=not_gift), reward="c30")
    r = run(
        camps, [item("CASE-1", "250.00", category="accessories")], shipping="8.00", coupons=[c30]
    )
    assert amounts(r) == {"C30": "30.00", "member_shipping": "8.00"}
    assert r["total_discount"] == "38.00"
    assert nudges(r) == {("spend_and_save", "150.00", "50.00")}
    assert explained(r) == {"spend_and_save": "outranked", "appliance_every": "no_applicable_items"}
    r = run(
        camps,
        [
            item("SPEAKER", "150.00", category="electronics"),
            item("KETTLE", "300.00", category="kitchen"),
        ],
        shipping="8.00",
        coupons=[c30],
    )
    assert amounts(r) == {
        "spend_and_save": "50.00",
        "appliance_every": "40.00",
        "member_shipping": "8.00",
    }
    assert r["total_discount"] == "98.00"
    assert nudges(r) == {
        ("spend_and_save", "350.00", "120.00"),
        ("appliance_every", "300.00", "80.00"),
    }
    assert explained(r) == {"C30": "outranked"}
    check_lines(r)
    r = run(
        camps,
        [item("GC", "500.00", category="gift_card"), item("PEN", "60.00", category="stationery")],
        shipping="8.00",
        coupons=[c30],
    )
    assert amounts(r) == {"member_shipping": "8.00"}
    assert explained(r) == {
        "spend_and_save": "below_threshold",
        "appliance_every": "no_applicable_items",
        "C30": "below_min_spend",
    }
    assert nudges(r) == {("spend_and_save", "140.00", "20.00"), ("C30", "139.00", "30.00")}


def test_shoes_week_stacks_a_category_coupon_with_buy_get() -> None:
    shoes = where('item.category == "shoes"', lambda i: i.category == "shoes")
    socks = where("socks", lambda i: i.category == "socks")
    sandals = where("sandals", lambda i: i.category == "sandals")
    feiyue = where(
        "feiyue", lambda i: i.shop == "feiyue_flagship" and i.attributes.get("brand") == "Feiyue"
    )
    camps = ruleset(
        campaign("shoe_coupon", group="category"),
        campaign("socks_3for2", Terms(BuyGet(2, 1, Fraction(100)), filter=socks)),
        campaign("sandals_half", Terms(BuyGet(1, 1, Fraction(50)), filter=sandals)),
        campaign("feiyue_shop", group="category"),
    )
    s1 = coupon(
        "S1",
        camps[0],
        Terms(PercentOff(Fraction(15)), cap=5000, min_spend=20000, filter=shoes),
        reward="shoes15",
    )
    f1 = coupon("F1", camps[3], Terms(Off(3000), min_spend=30000, filter=feiyue), reward="fy30")
    r = run(
        camps,
        [
            item("RUN-9", "259.00", category="shoes", shop="sportsworld"),
            item("SOCK-A", "25.00", 3, category="socks"),
            item("SOCK-B", "15.00", category="socks"),
            item("SAND-1", "129.00", category="sandals"),
            item("SAND-2", "89.00", category="sandals"),
        ],
        coupons=[s1, f1],
    )
    assert amounts(r) == {"S1": "38.85", "socks_3for2": "15.00", "sandals_half": "44.50"}
    assert r["total_discount"] == "98.35"
    check_lines(r)
    brand = {"shop": "feiyue_flagship", "attributes": {"brand": "Feiyue"}}
    cart = [
        item("FY-1", "219.90", category="shoes", **brand),
        item("FY-2", "99.00", category="apparel", **brand),
    ]
    assert amounts(run(camps, cart, coupons=[s1, f1])) == {"S1": "32.99"}
    used = coupon("S1", camps[0], None, reason="already_redeemed")
    assert amounts(run(camps, cart, coupons=[used, f1])) == {"F1": "30.00"}


def test_two_coupons_of_one_campaign_never_stack_and_the_earlier_validity_wins() -> None:
    camps = ruleset(campaign("wallet"))
    terms = Terms(Off(500))
    late = coupon("AAA", camps[0], terms, valid_until=2000)
    early = coupon("ZZZ", camps[0], terms, valid_until=1000)
    r = run(camps, [item("A", "10.00")], coupons=[late, early])
    assert amounts(r) == {"ZZZ": "5.00"} and explained(r) == {"AAA": "outranked"}
    same = coupon("MMM", camps[0], terms, valid_until=1000)
    r = run(camps, [item("A", "10.00")], coupons=[early, same])
    assert amounts(r) == {"MMM": "5.00"}


def test_a_code_supplied_twice_is_one_coupon() -> None:
    camps = ruleset(campaign("wallet"))
    once = coupon("AAA", camps[0], Terms(Off(500)))
    r = run(camps, [item("A", "10.00")], coupons=[once, once])
    assert amounts(r) == {"AAA": "5.00"} and r["explanations"] == []


def test_a_coupon_is_computed_in_its_campaign_stage() -> None:
    camps = ruleset(
        campaign("ten", Terms(PercentOff(Fraction(10))), stage="item"),
        campaign("shop", stage="shop"),
    )
    c = coupon("C", camps[1], Terms(PercentOff(Fraction(50)), min_spend=9000))
    r = run(camps, [item("A", "100.00")], coupons=[c])
    assert amounts(r) == {"ten": "10.00", "C": "45.00"}
    assert r["discounts"][1]["stage"] == "shop"


def test_without_explain_nothing_is_explained() -> None:
    camps = ruleset(campaign("mj", Terms(tiers(("300", "30")))), campaign("x", Terms(Off(1))))
    r = run(
        camps,
        [item("A", "100.00")],
        explain=False,
        coupons=[coupon("Q", camps[1], None, reason="expired")],
    )
    assert r["explanations"] == [] and nudges(r) == {("mj", "200.00", "30.00")}


def test_an_empty_cart() -> None:
    camps = ruleset(campaign("ship", Terms(FreeShipping())), campaign("ten", Terms(Off(1000))))
    r = run(camps, [], shipping="5.00")
    assert r["discounts"] == [] and r["lines"] == [] and r["paid"] == "5.00"
    assert explained(r) == {"ship": "no_applicable_items", "ten": "no_applicable_items"}


def test_a_small_amount_over_many_lines_gives_no_zero_allocations() -> None:
    camps = ruleset(campaign("penny", Terms(Off(1))))
    r = run(camps, [item("A", "1.00"), item("B", "1.00"), item("C", "1.00")])
    assert [allocations(r, i) for i in range(3)] == [{"penny": "0.01"}, {}, {}]
    check_lines(r)


def test_rulesets_with_the_same_filter_text_test_their_own_conditions() -> None:
    # the same `on items where` text means different things in two rulesets (segments)
    yes = where("members", lambda i: True)
    no = where("members", lambda i: False)
    camps = [
        campaign("a", Terms(Off(100), filter=yes), ruleset="r1"),
        campaign("b", Terms(Off(100), filter=no), ruleset="r2"),
    ]
    r = run(camps, [item("A", "10.00")])
    assert amounts(r) == {"a": "1.00"} and explained(r) == {"b": "no_applicable_items"}
