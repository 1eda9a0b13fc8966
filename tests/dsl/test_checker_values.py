"""Values (LANGUAGE.md 2.4, 6, 7, 11.2): money decimals, positive amounts and counts,
percentages, days of month, window and validity order, time ranges, tiers, weights."""

from __future__ import annotations

import pytest

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic
from dsl.parser import parse_ruleset


def header(currency: str = "CNY", tz: str = "Asia/Shanghai") -> str:
    return f'ruleset "t"\ntimezone "{tz}"\ncurrency {currency}\n'


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


def campaign(body: str, *, currency: str = "CNY", tz: str = "Asia/Shanghai") -> str:
    return f"{header(currency, tz)}campaign c {{\n    {body}\n}}\n"


WINDOW = "window 2026-11-11 .. 2026-11-11\n    "


def only_error(text: str, needle: str, phrase: str, nth: int = 1) -> str:
    found = errors(text)
    assert len(found) == 1, found
    line, column, message = found[0]
    assert (line, column) == at(text, needle, nth), found
    assert phrase in message, message
    return message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("discount { value 10.505 off }", "10.505"),
        ("discount { tiers { spend 100.001 save 5 } }", "100.001"),
        ("discount { tiers { spend 100 save 5.001 } }", "5.001"),
        ("discount { every 300 save 40.123 }", "40.123"),
        ("discount { value 10% off  cap 5.555 }", "5.555"),
        ("discount { value 10 off  min spend 99.999 }", "99.999"),
        ("discount { points 1 per 0.005 }", "0.005"),
        ("coupon k { value 5 off  budget 100.001 }\n    limit per user 1", "100.001"),
    ],
)
def test_amounts_have_at_most_the_currency_decimals(body: str, needle: str) -> None:
    only_error(campaign(WINDOW + body), needle, "CNY amounts have at most 2 decimal places")


def test_jpy_amounts_have_no_decimals() -> None:
    text = campaign(WINDOW + "discount { value 500.0 off }", currency="JPY")
    only_error(text, "500.0", "JPY amounts have at most 0 decimal places")
    assert errors(campaign(WINDOW + "discount { value 500 off }", currency="JPY")) == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("discount { value 0 off }", "0 off"),
        ("discount { value 0.00 off }", "0.00"),
        ("discount { tiers { spend 0 save 5 } }", "0 save"),
        ("discount { tiers { spend 10 save 0 } }", "0 }"),
        ("discount { every 0 save 5 }", "0 save"),
        ("discount { value 10% off  cap 0 }", "0 }"),
        ("discount { value 10 off  min spend 0 }", "0 }"),
        ("discount { points 5 per 0 }", "0 }"),
        ("coupon k { value 5 off  budget 0 }\n    limit per user 1", "0 }"),
        ("budget 0\n    coupon k { value 5 off }\n    limit per user 1", "0\n"),
    ],
)
def test_amounts_must_be_more_than_zero(body: str, needle: str) -> None:
    only_error(campaign(WINDOW + body), needle, "must be more than 0")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("coupon k { value 5 off  stock 0 }\n    limit per user 1", "0 }"),
        ("coupon k { value 5 off  stock 1 }\n    limit per user 0", "0\n"),
        ('discount { gift "SKU" qty 0 }', "0 }"),
        ("discount { buy 0 get 1 free }", "0 get"),
        ("discount { buy 1 get 0 free }", "0 free"),
        ("discount { tiers { qty 0 save 5 } }", "0 save"),
        ("discount { points 0 }", "0 }"),
        (
            'lottery { prize a "A" weight 1  guarantee a after 0 misses }\n    limit per user 1',
            "0 misses",
        ),
        ('lottery { prize a "A" weight 1 stock 0 }\n    limit per user 1', "0 }"),
        ("monthly 0\n    discount { value 1 off }", "0\n"),
    ],
)
def test_counts_must_be_at_least_one(body: str, needle: str) -> None:
    only_error(campaign(WINDOW + body), needle, "must be at least 1")


def test_day_of_month_is_1_to_31() -> None:
    text = campaign(WINDOW + "monthly 1, 31, 32\n    discount { value 1 off }")
    only_error(text, "32", "day of month must be 1 to 31")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("discount { value 0% off }", "0%"),
        ("discount { value 100.5% off }", "100.5%"),
        ("discount { buy 1 get 1 at 150% off }", "150%"),
        ("discount { tiers { spend 100 save 0% } }", "0%"),
    ],
)
def test_percentage_range(body: str, needle: str) -> None:
    phrase = "percentage must be more than 0% and at most 100%"
    only_error(campaign(WINDOW + body), needle, phrase)


def test_percentages_in_range() -> None:
    body = "discount { value 100% off }"
    assert errors(campaign(WINDOW + body)) == []


def test_window_order_uses_instants_and_whole_days() -> None:
    text = campaign("window 2026-11-11 10:00 .. 2026-11-11 09:59:59\n    discount { value 1 off }")
    only_error(text, "window", "window ends before it starts")
    same_day = "window 2026-11-11 10:00 .. 2026-11-11\n    discount { value 1 off }"
    assert errors(campaign(same_day)) == []  # a date alone as TO is 23:59:59
    one_second = "window 2026-11-11 10:00 .. 2026-11-11 10:00\n    discount { value 1 off }"
    assert errors(campaign(one_second)) == []


def test_window_order_in_the_ruleset_timezone() -> None:
    # In New York 02:30 on 2026-03-08 does not exist and moves to 03:30 EDT, after 03:10.
    body = "window 2026-03-08 02:30 .. 2026-03-08 03:10\n    discount { value 1 off }"
    only_error(campaign(body, tz="America/New_York"), "window", "window ends before it starts")


def test_invalid_dates_and_times_are_reported_without_the_order() -> None:
    body = "window 2026-02-30 .. 2026-1-1\n    daily 24:00 .. 10:00\n    discount { value 1 off }"
    assert [m for _, _, m in errors(campaign(body))] == [
        "invalid date '2026-02-30'",
        "invalid date '2026-1-1'",
        "invalid time '24:00'",
    ]


def test_validity_order_and_window_end() -> None:
    reversed_ = WINDOW + "coupon k { value 5 off  valid 2026-11-13 .. 2026-11-12 }"
    only_error(
        campaign(reversed_ + "\n    limit per user 1"), "valid", "validity ends before it starts"
    )
    early = WINDOW + "coupon k { value 5 off  valid until 2026-11-10 }\n    limit per user 1"
    only_error(campaign(early), "valid", "validity ends before the window ends")
    same = WINDOW + "coupon k { value 5 off  valid until 2026-11-11 }\n    limit per user 1"
    assert errors(campaign(same)) == []
    after = WINDOW + "coupon k { value 5 off  valid 7d after claim }\n    limit per user 1"
    assert errors(campaign(after)) == []


def test_validity_before_window_end_in_packs_and_prizes() -> None:
    pack = (
        WINDOW + "pack p { coupon k { value 5 off  valid until 2026-11-10 } }\n    limit per user 1"
    )
    only_error(campaign(pack), "valid", "validity ends before the window ends")
    prize = (
        WINDOW + "lottery { prize k coupon { value 5 off  valid 2026-11-01 .. 2026-11-10 }"
        " weight 1 }\n    limit per user 1"
    )
    only_error(campaign(prize), "valid", "validity ends before the window ends")


def test_empty_time_range_at_its_first_time() -> None:
    text = campaign(
        WINDOW + "daily 08:00 .. 09:00, 10:00 .. 10:00:00\n    discount { value 1 off }"
    )
    only_error(text, "10:00", "empty time range")


def test_time_range_past_midnight_is_not_empty() -> None:
    assert errors(campaign(WINDOW + "daily 22:00 .. 02:00\n    discount { value 1 off }")) == []


def test_tier_thresholds_must_increase() -> None:
    body = WINDOW + "discount { tiers { spend 100 save 5  spend 200 save 10  spend 200 save 20 } }"
    only_error(campaign(body), "spend", "tier thresholds must increase", nth=3)


def test_tiers_mix_spend_and_qty() -> None:
    body = WINDOW + "discount { tiers { spend 100 save 5  qty 3 save 10  spend 50 save 1 } }"
    only_error(campaign(body), "qty", "tiers mix spend and qty")


def test_prize_weights_all_zero_counts_otherwise() -> None:
    body = (
        WINDOW
        + 'lottery {\n        prize a "A" weight 0\n        otherwise "x"\n    }'
        + "\n    limit per user 1"
    )
    only_error(campaign(body), "lottery", "prize weights are all zero")
    body = body.replace('otherwise "x"', 'otherwise "x" weight 5')
    assert errors(campaign(body)) == []


def test_period_duration_must_be_positive() -> None:
    body = WINDOW + "coupon k { value 5 off  stock 5 }\n    limit per ip 1 per 0m"
    only_error(campaign(body), "0m", "must be more than 0")


@pytest.mark.parametrize(
    ("body", "needle", "what"),
    [
        ("discount { value 1000000000001 off }", "1000000000001", "value"),
        ("coupon k { value 5 off  stock 1000000000001 }\n    limit per user 1",
         "1000000000001", "stock"),
        ('lottery { prize p "P" weight 1000000000001  otherwise "x" }\n    limit per user 1',
         "1000000000001", "weight"),
    ],
)  # fmt: skip
def test_amounts_counts_and_weights_stay_exact_in_lua(body: str, needle: str, what: str) -> None:
    # Redis's Lua numbers are doubles: counters and amounts must stay far below 2**53.
    only_error(campaign(WINDOW + body), needle, "must be at most 1,000,000,000,000")
    assert errors(campaign(WINDOW + body.replace("1000000000001", "1000000000000"))) == []
