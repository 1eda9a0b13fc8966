"""The evaluate expectations of the shared case files, on hand-built campaigns (the same
rules as the cases' rule text)."""

from __future__ import annotations

from fractions import Fraction

from dsl.model import (
    BuyGet,
    Every,
    FreeShipping,
    Gift,
    PercentOff,
    Points,
    QtyTiers,
    Save,
    Terms,
)
from dsl.model import ValueOff as Off
from tests.engine.test_evaluate import (
    allocations,
    amounts,
    campaign,
    check_lines,
    coupon,
    explained,
    item,
    nudges,
    ruleset,
    run,
    tiers,
    where,
)

SHOES = where('item.category == "shoes"', lambda i: i.category == "shoes")


# --- stages.yaml ---------------------------------------------------------------------------


def test_default_stage_amounts_are_list_amounts_split_to_lines() -> None:
    camps = ruleset(
        campaign("mj", Terms(tiers(("300", "30"), ("500", "60")))),
        campaign("shoes10", Terms(PercentOff(Fraction(10)), filter=SHOES)),
    )
    r = run(camps, [item("SHOE", "200.00", category="shoes"), item("BAG", "100.00")])
    assert amounts(r) == {"mj": "30.00", "shoes10": "20.00"}
    assert allocations(r, 0) == {"mj": "20.00", "shoes10": "20.00"}
    assert allocations(r, 1) == {"mj": "10.00"}
    assert r["total_discount"] == "50.00" and r["paid"] == "250.00"
    check_lines(r)


def test_shop_threshold_after_the_item_stage_platform_after_both() -> None:
    s1 = where('item.shop == "s1"', lambda i: i.shop == "s1")
    camps = ruleset(
        campaign("shoes10", Terms(PercentOff(Fraction(10)), filter=SHOES), stage="item"),
        campaign("s1_mj", Terms(tiers(("200", "20")), filter=s1), stage="shop"),
        campaign("cross", Terms(tiers(("300", "30")))),
    )
    shoe = item("SHOE", "250.00", category="shoes", shop="s1")
    r = run(camps, [shoe, item("BAG", "80.00", shop="s2")])
    assert amounts(r) == {"shoes10": "25.00", "s1_mj": "20.00"}
    assert {d["campaign"]: d["stage"] for d in r["discounts"]} == {
        "shoes10": "item",
        "s1_mj": "shop",
    }
    assert explained(r) == {"cross": "below_threshold"}
    assert nudges(r) == {("cross", "15.00", "30.00")}
    assert r["lines"][0]["paid"] == "205.00" and r["lines"][1]["allocations"] == []
    r = run(camps, [shoe, item("BAG", "100.00", shop="s2")])
    assert r["total_discount"] == "75.00" and r["paid"] == "275.00"
    assert allocations(r, 0) == {"shoes10": "25.00", "s1_mj": "20.00", "cross": "20.16"}
    assert allocations(r, 1) == {"cross": "9.84"}
    assert r["lines"][0]["paid"] == "184.84" and r["lines"][1]["paid"] == "90.16"
    check_lines(r)


def test_the_order_of_stages_decides_eligibility() -> None:
    camps = ruleset(
        campaign("ten", Terms(PercentOff(Fraction(10))), stage="item"),
        campaign("twenty", Terms(PercentOff(Fraction(20)), min_spend=10000)),
    )
    r = run(camps, [item("A", "105.00")])
    assert amounts(r) == {"ten": "10.50"}
    assert explained(r) == {"twenty": "below_threshold"}
    assert nudges(r) == {("twenty", "5.50", "20.00")}
    r = run(camps, [item("A", "120.00")])
    assert amounts(r) == {"ten": "12.00", "twenty": "21.60"}
    assert r["total_discount"] == "33.60" and r["paid"] == "86.40"


def test_free_shipping_is_chosen_in_its_stage_and_applied_last() -> None:
    kettle = where('item.sku == "KETTLE"', lambda i: i.sku == "KETTLE")
    s1 = where('item.shop == "s1"', lambda i: i.shop == "s1")
    flash = campaign("flash", Terms(Off(2000), filter=kettle), stage="item")
    ship99 = campaign("ship99", Terms(FreeShipping(), min_spend=9900))
    shop_ship = campaign(
        "shop_ship", Terms(FreeShipping(), min_spend=9900, filter=s1), stage="item"
    )
    cart = [item("KETTLE", "110.00", shop="s1")]
    r = run(ruleset(flash, ship99), cart, shipping="8.00")
    assert amounts(r) == {"flash": "20.00"}
    assert explained(r) == {"ship99": "below_threshold"}
    assert r["shipping"] == {"fee": "8.00", "allocations": [], "paid": "8.00"}
    assert r["paid"] == "98.00"
    r = run(ruleset(flash, ship99, shop_ship), cart, shipping="8.00")
    assert amounts(r) == {"flash": "20.00", "shop_ship": "8.00"}
    assert r["discounts"][-1] == {"campaign": "shop_ship", "amount": "8.00", "stage": "shipping"}
    assert r["shipping"]["allocations"] == [
        {"campaign": "shop_ship", "stage": "shipping", "amount": "8.00"}
    ]
    assert r["shipping"]["paid"] == "0.00" and r["paid"] == "90.00"
    check_lines(r)


def test_buy_get_in_a_later_stage_takes_the_cheapest_unit_amounts_left() -> None:
    sock = where('item.sku == "SOCK"', lambda i: i.sku == "SOCK")
    camps = ruleset(
        campaign("one_off", Terms(Off(100), filter=sock), stage="item"),
        campaign("b2g1", Terms(BuyGet(2, 1, Fraction(100)), filter=sock)),
    )
    r = run(camps, [item("SOCK", "10.00", 3)])
    assert amounts(r) == {"one_off": "1.00", "b2g1": "9.66"}
    assert r["lines"][0]["paid"] == "19.34"


def test_a_shop_stage_coupon_lowers_the_base_of_a_platform_threshold() -> None:
    camps = ruleset(campaign("mj", Terms(tiers(("200", "20")))), campaign("shop", stage="shop"))
    s15 = Terms(Off(1500), min_spend=10000)
    c1 = coupon("C1", camps[1], s15, reward="s15")
    r = run(camps, [item("A", "120.00"), item("B", "100.00")], coupons=[c1])
    assert amounts(r) == {"C1": "15.00", "mj": "20.00"}
    assert allocations(r, 0) == {"C1": "8.18", "mj": "10.91"}
    assert allocations(r, 1) == {"C1": "6.82", "mj": "9.09"}
    assert r["lines"][0]["paid"] == "100.91" and r["paid"] == "185.00"
    r = run(camps, [item("A", "110.00"), item("B", "100.00")], coupons=[c1])
    assert amounts(r) == {"C1": "15.00"}
    assert explained(r) == {"mj": "below_threshold"}
    assert nudges(r) == {("mj", "5.00", "20.00")}
    assert r["paid"] == "195.00"
    check_lines(r)


# --- allocation.yaml -----------------------------------------------------------------------


def test_largest_remainder_allocation() -> None:
    camps = ruleset(campaign("ten", Terms(Off(1000))))
    r = run(camps, [item("A", "10.00"), item("B", "10.00"), item("C", "10.00")])
    assert [allocations(r, i) for i in range(3)] == [
        {"ten": "3.34"},
        {"ten": "3.33"},
        {"ten": "3.33"},
    ]
    assert [line["paid"] for line in r["lines"]] == ["6.66", "6.67", "6.67"]
    r = run(camps, [item("A", "10.00"), item("B", "20.00"), item("C", "40.00")])
    assert [allocations(r, i) for i in range(3)] == [
        {"ten": "1.43"},
        {"ten": "2.86"},
        {"ten": "5.71"},
    ]
    assert r["paid"] == "60.00"


def test_a_filtered_discount_is_split_over_its_own_lines_by_line_amount() -> None:
    s1 = where('item.shop == "s1"', lambda i: i.shop == "s1")
    camps = ruleset(campaign("s1", Terms(tiers(("100", "15")), filter=s1)))
    cart = [
        item("A", "25.00", 3, shop="s1"),
        item("B", "500.00", shop="s2"),
        item("C", "50.00", shop="s1"),
    ]
    r = run(camps, cart)
    assert r["lines"][0]["list"] == "75.00" and allocations(r, 0) == {"s1": "9.00"}
    assert allocations(r, 1) == {} and r["lines"][1]["paid"] == "500.00"
    assert allocations(r, 2) == {"s1": "6.00"} and r["lines"][2]["paid"] == "44.00"


def test_two_discounts_never_take_a_line_below_zero() -> None:
    kettle = where('item.sku == "KETTLE"', lambda i: i.sku == "KETTLE")
    camps = ruleset(
        campaign("kettle_deal", Terms(Off(10000), filter=kettle), priority=1),
        campaign("kettle_extra", Terms(Off(5000), filter=kettle)),
        campaign("all20", Terms(Off(2000)), priority=-1),
    )
    r = run(camps, [item("KETTLE", "100.00"), item("MUG", "100.00")])
    assert amounts(r) == {"kettle_deal": "100.00", "all20": "20.00"}
    assert explained(r) == {"kettle_extra": "outranked"}
    assert allocations(r, 0) == {"kettle_deal": "100.00"} and r["lines"][0]["paid"] == "0.00"
    assert allocations(r, 1) == {"all20": "20.00"} and r["lines"][1]["paid"] == "80.00"
    check_lines(r)


# --- groups.yaml ---------------------------------------------------------------------------


def test_one_offer_per_group_and_groups_stack() -> None:
    s1 = where('item.shop == "s1"', lambda i: i.shop == "s1")
    camps = ruleset(
        campaign("mj", Terms(tiers(("300", "30"), ("500", "60"))), group="platform"),
        campaign("pct", Terms(PercentOff(Fraction(8)), cap=10000), group="platform"),
        campaign("shop_every", Terms(Every(10000, 500), filter=s1), group="shop"),
        campaign("ship", Terms(FreeShipping())),
    )
    r = run(
        camps, [item("A", "250.00", shop="s1"), item("B", "300.00", shop="s2")], shipping="10.00"
    )
    assert amounts(r) == {"mj": "60.00", "shop_every": "10.00", "ship": "10.00"}
    assert r["total_discount"] == "80.00"
    assert nudges(r) == {("shop_every", "50.00", "15.00")}
    assert explained(r) == {"pct": "outranked"}
    r = run(camps, [item("B", "900.00", shop="s2")], shipping="6.00")
    assert amounts(r) == {"pct": "72.00", "ship": "6.00"}
    assert explained(r) == {"mj": "outranked", "shop_every": "no_applicable_items"}
    r = run(camps, [item("B", "1000.00", 2, shop="s2")], shipping="6.00")
    assert amounts(r) == {"pct": "100.00", "ship": "6.00"} and r["total_discount"] == "106.00"


def test_ties_go_to_priority_then_file_order_and_the_bound_removes_the_later() -> None:
    camps = ruleset(
        campaign("a", Terms(Off(3000)), group="g"),
        campaign("b", Terms(Off(3000)), group="g", priority=1),
        campaign("c", Terms(Off(3000)), group="h"),
        campaign("d", Terms(Off(3000)), group="h"),
        campaign("e", Terms(Off(3100)), group="h", priority=-5),
    )
    r = run(camps, [item("A", "100.00")])
    assert amounts(r) == {"b": "30.00", "e": "31.00"} and r["total_discount"] == "61.00"
    assert explained(r) == {"a": "outranked", "c": "outranked", "d": "outranked"}
    r = run(camps, [item("A", "30.00")])
    assert amounts(r) == {"b": "30.00"} and r["total_discount"] == "30.00"
    assert explained(r) == dict.fromkeys("acde", "outranked")


def test_without_groups_the_last_in_evaluation_order_gives_way() -> None:
    camps = ruleset(
        campaign("half", Terms(PercentOff(Fraction(50)))),
        campaign("big", Terms(Off(8000))),
        campaign("small", Terms(Off(3000)), priority=-1),
    )
    r = run(camps, [item("A", "100.00")])
    assert amounts(r) == {"half": "50.00", "big": "50.00"} and explained(r) == {
        "small": "outranked"
    }
    r = run(camps, [item("A", "200.00")])
    assert amounts(r) == {"half": "100.00", "big": "80.00", "small": "20.00"}
    r = run(camps, [item("A", "500.00")])
    assert amounts(r) == {"half": "250.00", "big": "80.00", "small": "30.00"}
    assert r["total_discount"] == "360.00"


# --- items_and_benefits.yaml, rounding.yaml, discount_tiers.yaml -----------------------------


def test_item_filters_decide_the_applicable_amount() -> None:
    bags = where('item.category == "bags"', lambda i: i.category == "bags")
    shoes_or_clearance = where(
        "shoes or clearance", lambda i: i.category == "shoes" or "clearance" in i.tags
    )
    camps = ruleset(
        campaign("shoes50", Terms(Off(5000), filter=shoes_or_clearance)),
        campaign("bags20", Terms(Off(2000), min_spend=15000, filter=bags)),
    )
    r = run(camps, [item("SLIPPER", "30.00", category="shoes"), item("HAT", "200.00")])
    assert amounts(r) == {"shoes50": "30.00"} and nudges(r) == set()
    assert explained(r) == {"bags20": "no_applicable_items"}
    r = run(
        camps,
        [
            item("RUNNER", "120.00", category="shoes"),
            item("CAP", "45.00", tags=["clearance"]),
            item("TOTE", "80.00", category="bags"),
        ],
    )
    assert amounts(r) == {"shoes50": "50.00"} and explained(r) == {"bags20": "below_threshold"}
    assert nudges(r) == {("bags20", "70.00", "20.00")}
    r = run(camps, [item("CLUTCH", "75.00", 2, category="bags")])
    assert amounts(r) == {"bags20": "20.00"} and explained(r) == {"shoes50": "no_applicable_items"}


def test_buy_get_and_half_price() -> None:
    socks = where("socks", lambda i: i.category == "socks")
    sandals = where("sandals", lambda i: i.category == "sandals")
    camps = ruleset(
        campaign("socks", Terms(BuyGet(2, 1, Fraction(100)), filter=socks)),
        campaign("sandals", Terms(BuyGet(1, 1, Fraction(50)), filter=sandals)),
    )
    sock = {"category": "socks"}
    r = run(
        camps,
        [
            item("W", "29.90", 2, **sock),
            item("C", "19.90", 2, **sock),
            item("S", "39.90", 1, **sock),
        ],
    )
    assert amounts(r) == {"socks": "19.90"}
    r = run(camps, [item("W", "29.90", 3, **sock), item("C", "19.90", 3, **sock)])
    assert amounts(r) == {"socks": "39.80"}
    check_lines(r)
    r = run(camps, [item("W", "29.90", 2, **sock)])
    assert amounts(r) == {} and r["total_discount"] == "0.00" and nudges(r) == set()
    assert explained(r) == {"socks": "below_threshold", "sandals": "no_applicable_items"}
    sandal = {"category": "sandals"}
    r = run(
        camps,
        [
            item("1", "199.00", **sandal),
            item("2", "159.00", **sandal),
            item("3", "99.00", **sandal),
            item("C", "19.90", 3, **sock),
        ],
    )
    assert amounts(r) == {"sandals": "49.50", "socks": "19.90"} and r["total_discount"] == "69.40"
    assert amounts(run(camps, [item("4", "99.99", 3, **sandal)])) == {"sandals": "50.00"}


def test_free_shipping_gift_and_points() -> None:
    books = where("books", lambda i: i.category == "books")
    camps = ruleset(
        campaign("ship99", Terms(FreeShipping(), min_spend=9900)),
        campaign("tote", Terms(Gift("TOTE-01", 1), min_spend=30000)),
        campaign("pts", Terms(Points(1, 1000))),
        campaign("book_pts", Terms(Points(50, None), filter=books)),
    )
    r = run(camps, [item("LAMP", "120.00")], shipping="12.00")
    assert amounts(r) == {"ship99": "12.00", "pts": "0.00"}
    assert [d.get("points") for d in r["discounts"]] == [12, None]
    assert r["total_discount"] == "12.00" and nudges(r) == set()
    assert explained(r) == {"tote": "below_threshold", "book_pts": "no_applicable_items"}
    r = run(
        camps, [item("NOVEL", "25.50", category="books"), item("KETTLE", "280.00")], shipping="8.00"
    )
    by_id = {d["campaign"]: d for d in r["discounts"]}
    assert by_id["tote"] == {
        "campaign": "tote",
        "amount": "0.00",
        "stage": "platform",
        "gift": {"sku": "TOTE-01", "qty": 1},
    }
    assert by_id["pts"]["points"] == 30 and by_id["book_pts"]["points"] == 50
    assert by_id["ship99"]["amount"] == "8.00" and r["total_discount"] == "8.00"
    assert all(line["allocations"] == [] for line in r["lines"])
    r = run(camps, [item("MUG", "49.00", 2)], shipping="10.00")
    assert amounts(r) == {"pts": "0.00"} and r["discounts"][0]["points"] == 9
    assert nudges(r) == {("ship99", "1.00", "10.00")}
    assert explained(r)["ship99"] == "below_threshold"


def test_free_shipping_without_a_fee_stays_at_zero_with_no_allocation() -> None:
    r = run(ruleset(campaign("ship", Terms(FreeShipping()))), [item("A", "1.00")])
    assert amounts(r) == {"ship": "0.00"}
    assert r["shipping"] == {"fee": "0.00", "allocations": [], "paid": "0.00"}


def test_two_free_shippings_share_one_fee() -> None:
    camps = ruleset(
        campaign("ship_a", Terms(FreeShipping()), stage="item"),
        campaign("ship_b", Terms(FreeShipping()), priority=5),
    )
    r = run(camps, [item("A", "1.00")], shipping="6.00")
    # the item stage's comes first, whatever the priorities
    assert amounts(r) == {"ship_a": "6.00"} and explained(r) == {"ship_b": "outranked"}


def test_rounding_cases() -> None:
    camps = ruleset(
        campaign("p10", Terms(PercentOff(Fraction(10)))),
        campaign(
            "p12_5",
            Terms(
                PercentOff(Fraction(25, 2)), filter=where("books", lambda i: i.category == "books")
            ),
        ),
    )
    assert amounts(run(camps[:1], [item("A", "20.45")])) == {"p10": "2.05"}
    r = run(camps, [item("PEN", "1.25"), item("BOOK", "12.25", category="books")])
    assert amounts(r) == {"p10": "1.35", "p12_5": "1.53"} and r["total_discount"] == "2.88"
    assert amounts(run(camps[:1], [item("PEN", "1.25")])) == {"p10": "0.13"}
    multi = ruleset(
        campaign(
            "multi",
            Terms(
                QtyTiers(((2, Save(percent=Fraction(5))), (3, Save(percent=Fraction(10))))),
                cap=2000,
            ),
        )
    )
    assert amounts(run(multi, [item("A", "12.45"), item("B", "8.80")])) == {"multi": "1.06"}
    assert amounts(run(multi, [item("C", "33.35", 3)])) == {"multi": "10.01"}
    assert amounts(run(multi, [item("D", "60.00", 4)])) == {"multi": "20.00"}
    r = run(multi, [item("D", "60.00", 1)])
    assert amounts(r) == {} and nudges(r) == set() and explained(r) == {"multi": "below_threshold"}


def test_spend_tiers_and_every_nudges() -> None:
    not_gift_card = where("not gift card", lambda i: i.category != "gift_card")
    mj = ruleset(
        campaign(
            "mj", Terms(tiers(("200", "20"), ("400", "50"), ("800", "120")), filter=not_gift_card)
        )
    )
    r = run(mj, [item("SHOE", "363.00"), item("GC", "500.00", category="gift_card")])
    assert amounts(r) == {"mj": "20.00"} and nudges(r) == {("mj", "37.00", "50.00")}
    r = run(mj, [item("BAG", "200.00", 2)])
    assert amounts(r) == {"mj": "50.00"} and nudges(r) == {("mj", "400.00", "120.00")}
    r = run(mj, [item("TEE", "199.99")])
    assert amounts(r) == {} and nudges(r) == {("mj", "0.01", "20.00")}
    r = run(mj, [item("TV", "799.00"), item("CABLE", "1.00")])
    assert amounts(r) == {"mj": "120.00"} and nudges(r) == set()
    r = run(mj, [item("GC", "1000.00", category="gift_card")])
    assert nudges(r) == set() and explained(r) == {"mj": "no_applicable_items"}
    every = ruleset(campaign("every200", Terms(Every(20000, 2000), cap=10000)))
    assert nudges(run(every, [item("A", "650.00")])) == {("every200", "150.00", "80.00")}
    assert nudges(run(every, [item("A", "999.99")])) == {("every200", "0.01", "100.00")}
    assert nudges(run(every, [item("A", "300.00", 4)])) == set()
    assert nudges(run(every, [item("A", "50.00", 3)])) == {("every200", "50.00", "20.00")}


def test_amounts_in_a_currency_without_minor_units() -> None:
    camps = ruleset(campaign("p10", Terms(PercentOff(Fraction(10)))))
    r = run(camps, [item("A", "12345")], currency=("JPY", 0))
    assert amounts(r) == {"p10": "1235"} and r["paid"] == "11110"
    assert r["lines"][0] == {
        "line": 0,
        "sku": "A",
        "qty": 1,
        "list": "12345",
        "allocations": [{"campaign": "p10", "stage": "platform", "amount": "1235"}],
        "paid": "11110",
    }
