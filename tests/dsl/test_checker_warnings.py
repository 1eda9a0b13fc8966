"""Warnings (LANGUAGE.md 11.4): they never fail compilation, and each points at a rule
that probably does not do what the operator meant."""

from __future__ import annotations

import pytest

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic
from dsl.parser import parse_ruleset

HEADER = 'ruleset "t"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'
WINDOW = "window 2026-11-11 .. 2026-11-11\n    "


def diagnose(text: str) -> list[Diagnostic]:
    return check_ruleset(parse_ruleset(text))


def warnings(text: str) -> list[tuple[int, int, str]]:
    found = diagnose(text)
    assert [d.format() for d in found if d.severity == "error"] == []
    return [(d.span.line, d.span.column, d.message) for d in found if d.severity == "warning"]


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def campaign(body: str, name: str = "c") -> str:
    return f"{HEADER}campaign {name} {{\n    {body}\n}}\n"


def only_warning(text: str, needle: str, phrase: str, nth: int = 1) -> str:
    found = warnings(text)
    assert len(found) == 1, found
    line, column, message = found[0]
    assert (line, column) == at(text, needle, nth), found
    assert phrase in message, message
    return message


def test_claimable_campaign_without_any_limit() -> None:
    text = campaign(WINDOW + "coupon k { value 5 off stock 10 }", name="flash")
    only_warning(text, "flash", "campaign 'flash' is claimable but has no limit")
    limited = WINDOW + "coupon k { value 5 off stock 10  limit per user 1 }"
    assert warnings(campaign(limited)) == []
    lottery = WINDOW + 'lottery { prize a "A" weight 1 }'
    only_warning(campaign(lottery, name="draw"), "draw", "is claimable but has no limit")


def test_coupon_or_pack_without_stock_or_budget() -> None:
    body = (
        WINDOW
        + "coupon k { value 5 off }\n    pack p { coupon q { value 1 off } }\n    limit per user 1"
    )
    found = warnings(campaign(body))
    assert [(line, column) for line, column, _ in found] == [
        at(campaign(body), "k"),
        at(campaign(body), "p {"),
    ]
    assert "coupon 'k' has neither stock nor budget" in found[0][2]
    assert "pack 'p' has neither stock nor budget" in found[1][2]


def test_campaign_budget_bounds_its_coupons() -> None:
    body = WINDOW + "budget 1000\n    coupon k { value 5 off }\n    limit per user 1"
    assert warnings(campaign(body)) == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("window 2026-11-11 .. 2026-11-11 23:59\n    discount { value 1 off }", "23:59"),
        (WINDOW + "daily 10:00 .. 10:59\n    discount { value 1 off }", "10:59"),
        (
            WINDOW + "weekly sat 10:00 .. 23:59, 08:00 .. 09:00\n    discount { value 1 off }",
            "23:59",
        ),
    ],
)
def test_end_written_at_minute_59(body: str, needle: str) -> None:
    message = only_warning(campaign(body), needle, "ends at ")
    assert ":59:00" in message and ":59:59" in message


def test_end_at_59_with_seconds_or_as_a_start_is_fine() -> None:
    body = "window 2026-11-11 10:59 .. 2026-11-11 23:59:59\n    daily 09:59 .. 10:30\n"
    assert warnings(campaign(body + "    discount { value 1 off }")) == []


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("now <= 2026-11-11", "2026-11-11"),
        ("user.registered_at > 2026-01-01", "2026-01-01"),
        ("2026-11-11 >= now", "2026-11-11"),
        ("2026-11-11 < now", "2026-11-11"),
    ],
)
def test_date_without_time_compared_with_a_datetime(expr: str, needle: str) -> None:
    text = campaign(WINDOW + f"when {expr}\n    discount {{ value 1 off }}")
    nth = text.count(needle, 0, text.index("when ")) + 1
    only_warning(text, needle, "without a time", nth=nth)


@pytest.mark.parametrize(
    "expr",
    ["now < 2026-11-11", "now >= 2026-11-11", "now <= 2026-11-11 23:59:59", "now == 2026-11-11"],
)
def test_date_comparisons_that_mean_what_they_say(expr: str) -> None:
    assert warnings(campaign(WINDOW + f"when {expr}\n    discount {{ value 1 off }}")) == []


def test_prize_with_weight_zero_and_no_guarantee() -> None:
    body = WINDOW + (
        'lottery {\n        prize a "A" weight 0\n        prize b "B" weight 0\n'
        '        prize c "C" weight 5\n        guarantee b after 3 misses\n    }'
        "\n    limit per user 1"
    )
    only_warning(campaign(body), 'a "A"', "prize 'a' has weight 0 and no guarantee")


def test_segment_never_used() -> None:
    text = (
        HEADER
        + "segment used = user.is_new\nsegment unused = user.level > 1\n"
        + campaign(WINDOW + "when used\n    discount { value 1 off }").removeprefix(HEADER)
    )
    only_warning(text, "unused", "segment 'unused' is never used")


def test_segment_used_only_by_a_later_segment_is_used() -> None:
    text = (
        HEADER
        + "segment a = user.is_new\nsegment b = a\n"
        + campaign(WINDOW + "when b\n    discount { value 1 off }").removeprefix(HEADER)
    )
    assert warnings(text) == []


def test_gift_or_points_in_a_group_with_a_money_discount() -> None:
    text = (
        HEADER
        + "campaign money {\n    " + WINDOW + "discount { value 5 off }\n    group g\n}\n"
        + "campaign tote {\n    " + WINDOW + 'discount { gift "TOTE" }\n    group g\n}\n'
        + "campaign pts {\n    " + WINDOW + "discount { points 5 }\n    group h\n}\n"
    )  # fmt: skip
    only_warning(text, "group", "always loses", nth=2)


def test_stage_on_a_free_shipping_campaign() -> None:
    text = campaign(WINDOW + "stage item\n    discount { free shipping }")
    only_warning(
        text, "stage", "'stage' of a free-shipping campaign only sets the base of its min spend"
    )
    mixed = WINDOW + (
        "stage shop\n    coupon f { free shipping cap 5 stock 1 }\n"
        "    coupon v { value 5 off stock 1 }\n    limit per user 1"
    )
    assert warnings(campaign(mixed)) == []
