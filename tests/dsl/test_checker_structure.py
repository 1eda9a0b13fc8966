"""Structure (LANGUAGE.md 3.4, 7, 8, 11.2): windows, reward shapes, benefit counts,
repeated items, items not allowed in a place, budgets without face value, prizes,
guarantees, groups in one stage, fixed words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic
from dsl.parser import parse_ruleset
from dsl.vocabulary import MAX_CAMPAIGNS

HEADER = 'ruleset "t"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'
WINDOW = "window 2026-11-11 .. 2026-11-11\n    "


def diagnose(text: str) -> list[Diagnostic]:
    return check_ruleset(parse_ruleset(text))


def errors(text: str) -> list[tuple[int, int, str]]:
    return [
        (d.span.line, d.span.column, d.message) for d in diagnose(text) if d.severity == "error"
    ]


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def campaign(body: str, name: str = "c") -> str:
    return f"{HEADER}campaign {name} {{\n    {body}\n}}\n"


def only_error(text: str, needle: str, phrase: str, nth: int = 1) -> str:
    found = errors(text)
    assert len(found) == 1, found
    line, column, message = found[0]
    assert (line, column) == at(text, needle, nth), found
    assert phrase in message, message
    return message


def test_campaign_without_window_or_reward() -> None:
    text = campaign("priority 1", name="flash")
    assert errors(text) == [
        (4, 10, "campaign 'flash' has no window"),
        (4, 10, "campaign 'flash' has no discount, coupon, pack or lottery"),
    ]


@pytest.mark.parametrize(
    ("body", "needle", "nth", "phrase"),
    [
        ("discount { value 1 off }\n    coupon k { value 1 off }", "coupon", 1,
         "a campaign with a discount has no other reward"),
        ("coupon k { value 1 off }\n    discount { value 1 off }", "discount", 1,
         "a campaign with a discount has no other reward"),
        ('lottery { prize a "A" weight 1 }\n    pack p { coupon k { value 1 off } }', "pack", 1,
         "a campaign with a lottery has no other reward"),
        ('coupon k { value 1 off }\n    lottery { prize a "A" weight 1 }', "lottery", 1,
         "a campaign with a lottery has no other reward"),
        ("discount { value 1 off }\n    discount { value 2 off }", "discount", 2,
         "a campaign with a discount has no other reward"),
    ],
)  # fmt: skip
def test_mixed_rewards_at_the_later_reward(body: str, needle: str, nth: int, phrase: str) -> None:
    text = campaign(WINDOW + body + "\n    limit per user 1" * ("discount" not in body))
    only_error(text, needle, phrase, nth)


def test_coupons_and_packs_go_together() -> None:
    body = (
        WINDOW + "coupon k { value 1 off stock 1 }\n    pack p { coupon q { value 1 off } stock 1 }"
    )
    assert errors(campaign(body + "\n    limit per user 1")) == []


ONE_DISCOUNT = "a discount has exactly one benefit"
ONE_COUPON = "a coupon has exactly one benefit"
LIMIT = "\n    limit per user 1"


@pytest.mark.parametrize(
    ("body", "needle", "phrase"),
    [
        ("discount { cap 5 }", "discount", ONE_DISCOUNT),
        ("discount { value 1 off  every 100 save 5 }", "every", ONE_DISCOUNT),
        ("discount { free shipping  points 5 }", "points", ONE_DISCOUNT),
        ("coupon k { cap 5 stock 1 }" + LIMIT, "coupon", ONE_COUPON),
        ("coupon k { value 5 off  free shipping stock 1 }" + LIMIT, "free", ONE_COUPON),
        ("lottery { prize k coupon { min spend 5 } weight 1 }" + LIMIT, "coupon", ONE_COUPON),
    ],
)
def test_benefit_count(body: str, needle: str, phrase: str) -> None:
    only_error(campaign(WINDOW + body), needle, phrase)


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("window 2026-11-12 .. 2026-11-12\n    discount { value 1 off }", "window"),
        ("tier S\n    tier A\n    discount { value 1 off }", "tier"),
        ("goal brand\n    goal brand\n    discount { value 1 off }", "goal"),
        ("priority 1\n    priority 2\n    discount { value 1 off }", "priority"),
        ("group a\n    group b\n    discount { value 1 off }", "group"),
        ("stage shop\n    stage shop\n    discount { value 1 off }", "stage"),
        ('referral "a"\n    referral "b"\n    coupon k { value 1 off stock 1 }' + LIMIT,
         "referral"),
        ("discount { value 10% off  cap 5  cap 6 }", "cap"),
        ("discount { value 1 off  min spend 5  min spend 6 }", "min spend"),
        ("discount { value 1 off  on items where true  on items where false }", "on items where"),
        ("coupon k { value 1 off  valid 1d after claim  valid 2d after claim }" + LIMIT, "valid"),
        ('lottery { prize a "A" weight 1  otherwise "x"  otherwise "y" }' + LIMIT, "otherwise"),
        ('lottery { prize a "A" weight 1  guarantee a after 2 misses  guarantee a after 3 misses }'
         + LIMIT, "guarantee"),
    ],
)  # fmt: skip
def test_repeated_item_at_the_second_keyword(body: str, word: str) -> None:
    text = campaign(WINDOW + body)
    message = only_error(text, word, f"'{word}' is given twice", nth=2)
    assert message == f"'{word}' is given twice"


@pytest.mark.parametrize("word", ["limit", "budget", "referral"])
def test_claim_items_not_allowed_in_an_automatic_campaign(word: str) -> None:
    item = {"limit": "limit per user 1", "budget": "budget 100", "referral": 'referral "x"'}[word]
    text = campaign(WINDOW + f"{item}\n    discount {{ value 1 off }}")
    only_error(text, word, f"'{word}' is not allowed in an automatic campaign")


@pytest.mark.parametrize("word", ["stock", "budget", "limit"])
def test_quota_not_allowed_on_pack_coupons_and_coupon_prizes(word: str) -> None:
    item = {"stock": "stock 5", "budget": "budget 100", "limit": "limit per user 1"}[word]
    pack = WINDOW + f"pack p {{ coupon k {{ value 1 off  {item} }} stock 1 }}\n    limit per user 1"
    only_error(campaign(pack), word, f"'{word}' is not allowed on a coupon inside a pack")
    prize = (
        WINDOW
        + f"lottery {{ prize k coupon {{ value 1 off  {item} }} weight 1 }}\n    limit per user 1"
    )
    only_error(campaign(prize), word, f"'{word}' is not allowed on a coupon prize")


@pytest.mark.parametrize(
    ("discount", "word", "phrase"),
    [
        (
            "tiers { spend 100 save 5 }  min spend 50",
            "min",
            "'min spend' is not allowed with tiers",
        ),
        ("every 100 save 5  min spend 50", "min", "'min spend' is not allowed with every"),
        ("points 1 per 10  min spend 50", "min", "'min spend' is not allowed with points … per"),
        ('gift "SKU"  cap 5', "cap", "'cap' is not allowed with gift"),
        ("points 5  cap 5", "cap", "'cap' is not allowed with points"),
    ],
)
def test_modifier_not_allowed_with_benefit(discount: str, word: str, phrase: str) -> None:
    only_error(campaign(WINDOW + f"discount {{ {discount} }}"), word, phrase)


def test_min_spend_is_allowed_with_points_without_per_and_gift() -> None:
    body = WINDOW + "discount { points 5  min spend 50 }"
    assert errors(campaign(body)) == []
    assert errors(campaign(WINDOW + 'discount { gift "SKU" qty 2  min spend 50 }')) == []


@pytest.mark.parametrize(
    ("body", "nth"),
    [
        ("coupon k { value 10% off  budget 100 }", 1),
        ("coupon k { free shipping  budget 100 }", 1),
        ("budget 1000\n    coupon k { value 10% off  stock 5 }", 1),
        ("pack p { coupon k { value 10% off } budget 100 }", 1),
        ("budget 1000\n    pack p { coupon k { free shipping } stock 5 }", 1),
        ("budget 1000\n    lottery { prize k coupon { value 10% off } weight 1 }", 1),
        # the nearest budget: the coupon's own, not the campaign's
        ("budget 1000\n    coupon k { value 10% off  budget 100 }", 2),
    ],
)
def test_needs_a_cap_to_count_against_a_budget(body: str, nth: int) -> None:
    text = campaign(WINDOW + body + "\n    limit per user 1")
    only_error(text, "budget", "needs a cap to count against a budget", nth)


def test_coupons_with_face_value_count_against_budgets() -> None:
    body = WINDOW + (
        "budget 1000\n    coupon k { value 10% off  cap 20  budget 100 }\n"
        "    coupon f { free shipping  cap 15  stock 5 }\n    coupon v { value 5 off  stock 5 }"
        "\n    limit per user 1"
    )
    assert errors(campaign(body)) == []


def test_physical_prize_needs_a_title() -> None:
    body = (
        WINDOW
        + "lottery { prize phone weight 1  prize pts points 5 weight 1 }\n    limit per user 1"
    )
    only_error(campaign(body), "phone", "a physical prize needs a title")


def test_unknown_prize_in_guarantee() -> None:
    body = WINDOW + (
        'lottery { prize c50 "C" weight 1  prize c10 "D" weight 1  guarantee c05 after 3 misses }'
        "\n    limit per user 1"
    )
    only_error(campaign(body), "c05", "unknown prize 'c05'; did you mean 'c10'?")


def test_lottery_without_prize() -> None:
    body = WINDOW + 'lottery { otherwise "x" weight 1 }\n    limit per user 1'
    only_error(campaign(body), "lottery", "a lottery needs at least one prize")


def test_pack_without_coupon() -> None:
    body = WINDOW + "pack p { stock 5 }\n    limit per user 1"
    only_error(campaign(body), "p {", "pack 'p' has no coupon")


def group_rules(stages: list[str | None]) -> str:
    text = HEADER
    for index, stage in enumerate(stages):
        stage_line = f"    stage {stage}\n" if stage else ""
        text += (
            f"campaign c{index} {{\n    window 2026-11-11 .. 2026-11-11\n{stage_line}"
            "    discount { value 1 off }\n    group g\n}\n"
        )
    return text


def test_group_in_two_stages_at_each_differing_group_keyword() -> None:
    text = group_rules(["item", None, "item", "shop"])
    found = errors(text)
    assert [(line, column) for line, column, _ in found] == [
        at(text, "group", 2),
        at(text, "group", 4),
    ]
    for _, _, message in found:
        assert (
            "group 'g' is in stage item at line 4; all campaigns of a group share one stage"
            in message
        )


def test_group_without_stage_is_platform() -> None:
    assert errors(group_rules([None, "platform", None])) == []


def test_misspelt_stage_is_one_error() -> None:
    found = errors(group_rules(["item", "itme"]))
    assert [m for _, _, m in found] == ["unknown stage 'itme'; did you mean 'item'?"]


@pytest.mark.parametrize(
    ("item", "word", "phrase"),
    [
        ("tier SS", "SS", "unknown tier 'SS'; did you mean 'S'?"),
        (
            "goal conversation",
            "conversation",
            "unknown goal 'conversation'; did you mean 'conversion'?",
        ),
        (
            "goal growth",
            "growth",
            "unknown goal 'growth'; expected one of: acquisition, conversion",
        ),
        ("weekly mon, wen", "wen", "unknown weekday 'wen'; did you mean 'wed'?"),
        ("stage shops", "shops", "unknown stage 'shops'; did you mean 'shop'?"),
    ],
)
def test_unknown_words(item: str, word: str, phrase: str) -> None:
    only_error(campaign(WINDOW + f"{item}\n    discount {{ value 1 off }}"), word, phrase)


@pytest.mark.parametrize(
    ("quota", "word", "phrase"),
    [
        ("limit per users 1", "users", "unknown limit scope 'users'; did you mean 'user'?"),
        ("limit per user 1 per days", "days", "unknown period 'days'; did you mean 'day'?"),
        (
            "budget 100 per fortnight",
            "fortnight",
            "unknown period 'fortnight'; expected one of: day, week, month",
        ),
    ],
)
def test_unknown_quota_words(quota: str, word: str, phrase: str) -> None:
    text = campaign(
        WINDOW + f"coupon k {{ value 1 off stock 1 }}\n    {quota}\n    limit per user 1"
    )
    only_error(text, word, phrase)


def test_referral_campaign_must_be_claimable() -> None:
    body = WINDOW + 'referral "first_order"\n    discount { value 1 off }'
    only_error(campaign(body), "referral", "'referral' is not allowed in an automatic campaign")


def test_a_full_claimable_campaign_is_clean() -> None:
    body = WINDOW + (
        'referral "first_order"\n    tier A\n    goal referral\n    stage shop\n    group g\n'
        "    priority -2\n    weekly sat, sun 10:00 .. 22:00\n    monthly 1, 15\n"
        "    coupon k { value 10 off  min spend 50  valid 7d after claim  stock 10 per day }\n"
        "    limit per user 1 per week\n    limit per ip 5 per 10m\n    budget 500 per month"
    )
    assert errors(campaign(body)) == []


def test_more_campaigns_than_the_bound_is_one_error() -> None:
    """The parser stops such a file first; a tree built otherwise gets one clear error."""
    tree = parse_ruleset(campaign(WINDOW + "discount { value 1 off }"))
    first = tree.campaigns[0]
    copies = tuple(
        replace(first, name=replace(first.name, text=f"c{index}"))
        for index in range(MAX_CAMPAIGNS + 1)
    )
    found = [d for d in check_ruleset(replace(tree, decls=copies)) if d.severity == "error"]
    assert [d.message for d in found] == [
        "too many campaigns: a ruleset holds at most 10,000; split it into several files"
    ]
