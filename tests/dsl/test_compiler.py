"""Model building (LANGUAGE.md 3-8): every construct's resolved values."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from dsl import attributes, compiler
from dsl import model as M
from dsl.compiler import compile_text
from dsl.errors import RuleError

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
EXAMPLES = sorted((SPEC / "examples").glob("*.promo"))


def rules(body: str, *, tz: str = "Asia/Shanghai", currency: str = "CNY") -> M.CompiledRuleset:
    text = f'ruleset "t"\ntimezone "{tz}"\ncurrency {currency}\n{body}'
    return compile_text(text, "t.promo")[0]


def campaign(items: str, **header: str) -> M.Campaign:
    return rules(f"campaign c {{\n{items}\n}}", **header).campaigns[0]


def at(text: str, hours: float) -> int:
    """Unix seconds of an ISO local date-time at a fixed UTC offset in hours."""
    offset = dt.timezone(dt.timedelta(hours=hours))
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=offset).timestamp())


DISCOUNT = "discount { value 1 off }"


# --- windows and schedules (6.1, 6.2) ------------------------------------------------------


def test_window_date_alone_covers_whole_days() -> None:
    c = campaign(f"window 2026-11-01 .. 2026-11-11\n{DISCOUNT}")
    assert c.window == M.Window(at("2026-11-01T00:00:00", 8), at("2026-11-11T23:59:59", 8))


def test_window_time_without_seconds_is_zero_seconds() -> None:
    c = campaign(f"window 2026-11-11 10:00 .. 2026-11-11 23:59\n{DISCOUNT}")
    assert c.window == M.Window(at("2026-11-11T10:00:00", 8), at("2026-11-11T23:59:00", 8))


def test_window_one_second() -> None:
    c = campaign(f"window 2026-11-11 10:00:05 .. 2026-11-11 10:00:05\n{DISCOUNT}")
    assert c.window.start == c.window.end == at("2026-11-11T10:00:05", 8)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-03-08 02:30", at("2026-03-08T03:30:00", -4)),  # in the gap: moved forward
        ("2026-11-01 01:30", at("2026-11-01T01:30:00", -4)),  # twice: the earlier (EDT)
        ("2026-07-01", at("2026-07-01T00:00:00", -4)),
        ("2026-12-01", at("2026-12-01T00:00:00", -5)),
    ],
)
def test_window_start_in_new_york(written: str, expected: int) -> None:
    c = campaign(f"window {written} .. 2027-01-01\n{DISCOUNT}", tz="America/New_York")
    assert c.window.start == expected


def test_window_in_kolkata() -> None:
    c = campaign(f"window 2026-11-11 10:00 .. 2026-11-12\n{DISCOUNT}", tz="Asia/Kolkata")
    assert c.window == M.Window(at("2026-11-11T10:00:00", 5.5), at("2026-11-12T23:59:59", 5.5))


def test_schedules() -> None:
    c = campaign(
        "window 2026-01-01 .. 2026-12-31\n"
        "daily 10:00 .. 10:30, 22:00 .. 02:00\n"
        "weekly sat, sun 10:00 .. 22:00:30\n"
        "weekly wed\n"
        "monthly 8, 18, 31 00:00 .. 12:00\n" + DISCOUNT
    )
    assert c.schedule == (
        M.Slot("daily", frozenset(), ((36000, 37800), (79200, 7200))),
        M.Slot("weekly", frozenset({6, 7}), ((36000, 79230),)),
        M.Slot("weekly", frozenset({3}), ()),
        M.Slot("monthly", frozenset({8, 18, 31}), ((0, 43200),)),
    )


def test_no_schedule() -> None:
    assert campaign(f"window 2026-01-01 .. 2026-12-31\n{DISCOUNT}").schedule == ()


# --- quotas (8) ---------------------------------------------------------------------------


def test_limits_budgets_and_periods() -> None:
    c = campaign(
        "window 2026-01-01 .. 2026-12-31\n"
        "coupon k { value 5 off  stock 100  stock 10 per day  budget 99.5 per week }\n"
        "limit per user 1\nlimit per device 2 per day\nlimit per ip 10 per 1m\n"
        "limit per user 3 per month\nbudget 30000 per 1h\nbudget 100.25"
    )
    assert c.limits == (
        M.Limit("user", 1, None),
        M.Limit("device", 2, M.Period("day")),
        M.Limit("ip", 10, M.Period("seconds", 60)),
        M.Limit("user", 3, M.Period("month")),
    )
    assert c.budgets == (M.Budget(3000000, M.Period("seconds", 3600)), M.Budget(10025, None))
    reward = c.rewards[0]
    assert reward.stocks == (M.Stock(100, None), M.Stock(10, M.Period("day")))
    assert reward.budgets == (M.Budget(9950, M.Period("week")),)
    assert reward.limits == ()


def test_money_in_a_currency_without_minor_units() -> None:
    c = campaign(
        "window 2026-01-01 .. 2026-12-31\n"
        "discount { tiers { spend 1000 save 100  spend 5000 save 10% } cap 800 }",
        currency="JPY",
    )
    assert c.discount == M.Terms(
        M.SpendTiers(((1000, M.Save(amount=100)), (5000, M.Save(percent=Fraction(10))))), cap=800
    )


# --- benefits (7.1) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "benefit"),
    [
        ("value 30.5 off", M.ValueOff(3050)),
        ("value 12.5% off", M.PercentOff(Fraction(25, 2))),
        (
            "tiers { qty 2 save 5  qty 3 save 10% }",
            M.QtyTiers(((2, M.Save(500)), (3, M.Save(percent=Fraction(10))))),
        ),
        ("every 300 save 40", M.Every(30000, 4000)),
        ("buy 2 get 1 free", M.BuyGet(2, 1, Fraction(100))),
        ("buy 1 get 1 at 50% off", M.BuyGet(1, 1, Fraction(50))),
        ("free shipping", M.FreeShipping()),
        ('gift "TOTE"', M.Gift("TOTE", 1)),
        ('gift "TOTE" qty 2', M.Gift("TOTE", 2)),
        ("points 100", M.Points(100, None)),
        ("points 2 per 1", M.Points(2, 100)),
    ],
)
def test_benefits(written: str, benefit: M.Benefit) -> None:
    c = campaign(f"window 2026-01-01 .. 2026-12-31\ndiscount {{ {written} }}")
    assert c.kind == "automatic"
    assert c.discount is not None and c.discount.benefit == benefit


def test_modifiers() -> None:
    c = campaign(
        "window 2026-01-01 .. 2026-12-31\n"
        'discount { value 10% off  cap 50.5  min spend 199  on items where item.shop == "s1" }'
    )
    assert c.discount is not None
    assert (c.discount.cap, c.discount.min_spend) == (5050, 19900)
    f = c.discount.filter
    assert f is not None and f.text == 'item.shop == "s1"' and f.item_only
    assert f.key == 't:item.shop == "s1"'


def test_equal_filters_share_one_object() -> None:
    r = rules(
        "segment members = user.level >= 1\n"
        'campaign a { window 2026-01-01 .. 2026-01-02  discount { value 1 off  on items where item.sku == "x" } }\n'  # noqa: E501
        'campaign b { window 2026-01-01 .. 2026-01-02  coupon k { value 1 off  on items where item.sku == "x" } }\n'  # noqa: E501
        "campaign m { window 2026-01-01 .. 2026-01-02  discount { value 1 off  on items where members } }\n"  # noqa: E501
    )
    a, b, m = r.campaigns
    assert a.discount is not None and m.discount is not None
    assert a.discount.filter is b.rewards[0].coupons[0].terms.filter
    assert m.discount.filter is not None and not m.discount.filter.item_only


# --- coupons, packs, lotteries (7.2-7.4, 6.4) ---------------------------------------------------


WINDOW = "window 2026-11-01 .. 2026-11-11"


@pytest.mark.parametrize(
    ("written", "validity"),
    [
        ("valid 7d after claim", M.Validity("after", seconds=604800)),
        ("valid until 2026-11-30", M.Validity("until", end=at("2026-11-30T23:59:59", 8))),
        ("valid until 2026-11-30 12:00", M.Validity("until", end=at("2026-11-30T12:00:00", 8))),
        (
            "valid 2026-11-11 .. 2026-11-13",
            M.Validity(
                "range", start=at("2026-11-11T00:00:00", 8), end=at("2026-11-13T23:59:59", 8)
            ),
        ),
        ("", M.Validity("window")),
    ],
)
def test_validity(written: str, validity: M.Validity) -> None:
    c = campaign(f"{WINDOW}\ncoupon k {{ value 5 off  {written} }}\nlimit per user 1")
    assert c.rewards[0].coupons[0].validity == validity


@pytest.mark.parametrize(
    ("written", "face"),
    [
        ("value 30 off", 3000),
        ("value 15% off  cap 50", 5000),
        ("free shipping  cap 15", 1500),
        ("value 15% off", None),
        ("free shipping", None),
    ],
)
def test_face_values(written: str, face: int | None) -> None:
    c = campaign(f"{WINDOW}\ncoupon k {{ {written} }}")
    assert c.kind == "coupons"
    assert c.rewards[0].face_value == c.rewards[0].coupons[0].face_value == face


def test_coupon_reward() -> None:
    c = campaign(
        f'{WINDOW}\ncoupon c30 "30 off" {{ value 30 off  min spend 199  limit per user 1 }}'
    )
    (reward,) = c.rewards
    assert (reward.id, reward.title, reward.kind) == ("c30", "30 off", "coupon")
    assert reward.limits == (M.Limit("user", 1, None),)
    (spec,) = reward.coupons
    assert (spec.id, spec.title, spec.terms) == (
        "c30",
        "30 off",
        M.Terms(M.ValueOff(3000), None, 19900),
    )


def test_pack() -> None:
    c = campaign(
        f'{WINDOW}\npack welcome "Pack" {{\n'
        '  coupon w10 "10 off" { value 10 off  min spend 39  valid 7d after claim }\n'
        "  coupon w20 { value 20 off  valid 14d after claim }\n"
        "  coupon w5 { value 5% off  cap 5 }\n"
        "  stock 100  budget 8000  limit per device 1 }"
    )
    (pack,) = c.rewards
    assert (pack.id, pack.title, pack.kind, pack.face_value) == ("welcome", "Pack", "pack", 3500)
    assert [s.id for s in pack.coupons] == ["w10", "w20", "w5"]
    assert pack.coupons[0].title == "10 off" and pack.coupons[1].title is None
    assert pack.coupons[1].validity == M.Validity("after", seconds=14 * 86400)
    assert pack.stocks == (M.Stock(100, None),)
    assert pack.budgets == (M.Budget(800000, None),)
    assert pack.limits == (M.Limit("device", 1, None),)


def test_pack_without_face_value() -> None:
    c = campaign(f"{WINDOW}\npack p {{ coupon a {{ value 10 off }} coupon b {{ value 10% off }} }}")
    assert c.rewards[0].face_value is None


def test_lottery() -> None:
    c = campaign(
        f"{WINDOW}\nlottery {{\n"
        '  prize phone "Phone" weight 1 stock 2 per day\n'
        '  prize c50 "50 off" coupon { value 50 off  min spend 300  valid 30d after claim } weight 50 stock 5000\n'  # noqa: E501
        "  prize pts points 100 weight 200\n"
        '  otherwise "Thanks" weight 344\n'
        "  guarantee c50 after 10 misses\n}"
    )
    assert c.kind == "lottery" and c.rewards == ()
    lottery = c.lottery
    assert lottery is not None
    phone, c50, pts = lottery.prizes
    assert phone == M.Prize(
        "phone", "Phone", "physical", None, None, 1, (M.Stock(2, M.Period("day")),)
    )
    assert (c50.kind, c50.weight, c50.stocks, c50.face_value) == (
        "coupon",
        50,
        (M.Stock(5000, None),),
        5000,
    )
    assert c50.coupon is not None and (c50.coupon.id, c50.coupon.title) == ("c50", "50 off")
    assert c50.coupon.validity == M.Validity("after", seconds=30 * 86400)
    assert (pts.kind, pts.points, pts.stocks, pts.face_value) == ("points", 100, (), 0)
    assert (lottery.otherwise_text, lottery.otherwise_weight) == ("Thanks", 344)
    assert (lottery.guarantee, lottery.guarantee_after) == ("c50", 10)


def test_lottery_without_otherwise_or_guarantee() -> None:
    c = campaign(f'{WINDOW}\nlottery {{ prize a "A" weight 1  otherwise "no" }}')
    assert c.lottery == M.Lottery(c.lottery.prizes, "no", 0, None, 0)  # type: ignore[union-attr]
    c = campaign(f'{WINDOW}\nlottery {{ prize a "A" weight 1 }}')
    assert c.lottery is not None and c.lottery.otherwise_text is None


# --- campaign facts (3.4, 7.6, 10.1) ---------------------------------------------------------


def test_campaign_facts() -> None:
    r = rules(
        'campaign a "Title A" {\n tier S\n goal referral\n priority -5\n group g\n stage shop\n'
        f' referral "first_order"\n {WINDOW}\n coupon k {{ value 1 off }}\n}}\n'
        f"campaign b {{ {WINDOW}  {DISCOUNT} }}\n"
        f"campaign g {{ {WINDOW}  {DISCOUNT}  group g  stage shop }}\n"
    )
    a, b, g = r.campaigns
    assert (a.id, a.title, a.ruleset_id, a.index, a.tier, a.goal) == (
        "a",
        "Title A",
        "t",
        0,
        "S",
        "referral",
    )
    assert (a.priority, a.group, a.group_name, a.stage, a.referral) == (
        -5,
        "t/g",
        "g",
        "shop",
        "first_order",
    )
    assert (b.title, b.tier, b.goal, b.priority, b.stage, b.referral) == (
        None,
        None,
        None,
        0,
        "platform",
        None,
    )
    # A campaign alone and a group with the campaign's name never share a key.
    assert (b.group, b.group_name, b.index) == ("t#b", None, 1)
    assert g.group == a.group
    assert r.positions == {"a": (4, 10), "b": (14, 10), "g": (15, 10)}


def test_ruleset_facts() -> None:
    r = rules(f"campaign c {{ {WINDOW} {DISCOUNT} }}", tz="Asia/Tokyo", currency="JPY")
    assert (r.id, r.file, r.timezone, r.currency, r.minor_units) == (
        "t",
        "t.promo",
        "Asia/Tokyo",
        "JPY",
        0,
    )
    assert r.campaign("c") is r.campaigns[0] and r.campaign("x") is None
    assert r.source.startswith('ruleset "t"')


def test_attribute_declarations() -> None:
    r = rules(
        "context {\n"
        "  user.i: int = -5\n  user.d: decimal = -1.25\n  cart.m: money = 9.9\n"
        '  user.s: string = "x"\n  user.b: bool = true\n  user.t: datetime = 2026-01-02\n'
        "  user.u: datetime = 2026-01-02 10:00\n  user.w: duration = 7d\n"
        '  item.ls: list of string = ["a", "b"]\n  item.li: list of int = [1, -2]\n'
        "  item.brand: string\n}\n"
        f"campaign c {{ {WINDOW} {DISCOUNT} }}"
    )
    assert r.attributes == (
        M.AttributeDecl("user", "i", "int", -5),
        M.AttributeDecl("user", "d", "decimal", Decimal("-1.25")),
        M.AttributeDecl("cart", "m", "money", 990),
        M.AttributeDecl("user", "s", "string", "x"),
        M.AttributeDecl("user", "b", "bool", True),
        M.AttributeDecl("user", "t", "datetime", at("2026-01-02T00:00:00", 8)),
        M.AttributeDecl("user", "u", "datetime", at("2026-01-02T10:00:00", 8)),
        M.AttributeDecl("user", "w", "duration", 604800),
        M.AttributeDecl("item", "ls", "list of string", ("a", "b")),
        M.AttributeDecl("item", "li", "list of int", (1, -2)),
        M.AttributeDecl("item", "brand", "string", None),
    )


# --- whole files ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shared_examples_compile(path: Path) -> None:
    compiled, warnings = compile_text(path.read_text(encoding="utf-8"), path.name)
    assert compiled.campaigns and all(w.severity == "warning" for w in warnings)
    assert compiled.check_all is not None and compiled.generated_source.startswith("def ")


def _case_rules() -> list[tuple[str, str]]:
    found = []
    for path in sorted((SPEC / "cases").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else [data]:
            if "rules" in case and "expect_error" not in case:
                found.append((f"{path.stem}: {case['name']}", case["rules"]))
    return found


@pytest.mark.parametrize(("name", "text"), _case_rules(), ids=[n for n, _ in _case_rules()])
def test_spec_case_rules_compile(name: str, text: str) -> None:
    compiled, _ = compile_text(text, "case.promo")
    assert len(compiled.campaigns) == len(compiled.check_all(*_empty_request(compiled)))


def _empty_request(r: M.CompiledRuleset) -> tuple[object, object, object]:
    from dsl.context import Context

    ctx = Context(now=0, currency=r.currency)
    if any(a.type == "datetime" and a.default is None for a in r.attributes):
        pytest.skip("a datetime attribute without default needs a value")
    return ctx, r.bind(ctx), {}


@pytest.mark.parametrize("module", [compiler, attributes], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0


def test_errors_raise_every_diagnostic() -> None:
    text = 'ruleset "t"\ntimezone "UTC"\ncurrency CNY\ncampaign a { when user.levle >= 1 }\n'
    with pytest.raises(RuleError) as caught:
        compile_text(text, "bad.promo")
    messages = [d.message for d in caught.value.errors]
    assert any("user.levle" in m for m in messages)
    assert any("has no window" in m for m in messages)


def test_warnings_are_returned() -> None:
    header = 'ruleset "t"\ntimezone "UTC"\ncurrency CNY\n'
    text = f"{header}segment unused = true\ncampaign c {{ {WINDOW} {DISCOUNT} }}"
    _, warnings = compile_text(text, "w.promo")
    assert [w.severity for w in warnings] == ["warning"]
