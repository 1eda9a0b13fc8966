"""engine/money.py: LANGUAGE.md 9 (rounding, 9.1 largest remainder, 9.3 unit amounts)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from engine.money import (
    cheapest_sum,
    format_money,
    percent_of,
    round_half_up,
    split,
    unit_amounts,
    unit_groups,
)


@pytest.mark.parametrize(
    ("minor", "k", "text"),
    [(5000, 2, "50.00"), (500, 0, "500"), (7, 2, "0.07"), (0, 2, "0.00"), (0, 0, "0"),
     (123456, 2, "1234.56"), (-150, 2, "-1.50"), (1, 3, "0.001")],
)  # fmt: skip
def test_format_money_has_exactly_k_decimals(minor: int, k: int, text: str) -> None:
    assert format_money(minor, k) == text


@pytest.mark.parametrize(
    ("x", "rounded"),
    [(Fraction(1225, 10), 123), (Fraction(1224, 10), 122), (Fraction(12345, 10), 1235),
     (Fraction(5, 2), 3), (Fraction(-5, 2), -3), (Fraction(-7, 3), -2), (Fraction(4), 4),
     (Fraction(1, 2), 1), (Fraction(49999, 100000), 0)],
)  # fmt: skip
def test_round_half_up_goes_away_from_zero(x: Fraction, rounded: int) -> None:
    assert round_half_up(x) == rounded


@pytest.mark.parametrize(
    ("amount", "percent", "result"),
    [
        (19997, Fraction(15), 3000),  # 199.97 x 15% = 29.9955 -> 30.00
        (33329, Fraction(15), 4999),  # 49.9935 -> 49.99
        (2045, Fraction(10), 205),  # 2.045 -> 2.05: neither half-even nor a float
        (125, Fraction(10), 13),  # 0.125 -> 0.13
        (1225, Fraction(25, 2), 153),  # 12.25 x 12.5% = 1.53125 -> 1.53
        (9999, Fraction(50), 5000),  # 49.995 -> 50.00
        (0, Fraction(50), 0),
    ],
)
def test_percent_of_rounds_once_half_up(amount: int, percent: Fraction, result: int) -> None:
    assert percent_of(amount, percent) == result
    assert percent_of(amount, percent) == round_half_up(Fraction(amount) * percent / 100)


def test_split_worked_examples_of_9_1() -> None:
    assert split(1000, [1000, 1000, 1000]) == [334, 333, 333]
    assert split(1000, [1000, 2000, 4000]) == [143, 286, 571]


def test_split_ties_go_to_the_earlier_part_and_zero_weights_get_nothing() -> None:
    assert split(1, [5, 5]) == [1, 0]
    assert split(2, [0, 3, 3, 3]) == [0, 1, 1, 0]
    assert split(2000, [0, 10000]) == [0, 2000]
    assert split(7, [1]) == [7]


def test_split_adds_up_and_never_exceeds_the_ceiling_of_a_quota() -> None:
    weights = [12345, 1, 999, 40000, 7, 7]
    for total in (0, 1, 99, 1000, 54321, 59359):
        shares = split(total, weights)
        assert sum(shares) == total
        for share, weight in zip(shares, weights, strict=True):
            quota = Fraction(total * weight, sum(weights))
            assert quota - 1 < share <= -(-quota.numerator // quota.denominator)


def test_split_needs_weight() -> None:
    with pytest.raises(ValueError):
        split(10, [0, 0])


def test_unit_amounts_of_9_3_socks() -> None:
    assert unit_amounts(2900, 3) == [967, 967, 966]
    assert unit_amounts(3000, 3) == [1000, 1000, 1000]
    assert unit_amounts(1, 3) == [1, 0, 0]


def test_unit_groups_are_the_same_multiset_as_unit_amounts() -> None:
    for amount, qty in ((2900, 3), (3000, 3), (1, 3), (123457, 10), (5, 1)):
        expanded = [a for a, n in unit_groups(amount, qty) for _ in range(n)]
        assert sorted(expanded) == sorted(unit_amounts(amount, qty))


def test_cheapest_sum_takes_the_smallest_units() -> None:
    groups = [(2990, 2), (1990, 2), (3990, 1)]
    assert cheapest_sum(groups, 1) == 1990
    assert cheapest_sum(groups, 3) == 1990 * 2 + 2990
    assert cheapest_sum(groups, 0) == 0
    assert cheapest_sum([(967, 2), (966, 1)], 1) == 966
