"""Money arithmetic on integer minor units (LANGUAGE.md 9): half-up rounding, the largest
remainder split, unit amounts, and the fixed-decimals text of responses.

No binary float is ever involved: percentages are `Fraction`s and every division is
integer division with an explicit remainder.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

_SCALES: tuple[int, ...] = tuple(10**k for k in range(10))


def format_money(minor: int, k: int) -> str:
    """`minor` units as text with exactly `k` decimals.

    >>> format_money(5000, 2), format_money(500, 0), format_money(7, 2)
    ('50.00', '500', '0.07')
    """
    return MONEY_TEXTS[k][minor]


def _format(minor: int, k: int) -> str:
    if k == 0:
        return str(minor)
    sign = ""
    if minor < 0:
        sign, minor = "-", -minor
    whole, frac = divmod(minor, _SCALES[k])
    return f"{sign}{whole}.{frac:0{k}d}"


class MoneyTexts(dict[int, str]):
    """Amount -> text for one number of decimals, remembered: an answer formats a few
    dozen amounts, mostly the same ones request after request. Bounded by clearing."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def __missing__(self, minor: int) -> str:
        if len(self) >= _TEXTS_KEPT:
            self.clear()
        text = self[minor] = _format(minor, self.k)
        return text


_TEXTS_KEPT = 16384
MONEY_TEXTS = tuple(MoneyTexts(k) for k in range(10))


def round_half_up(x: Fraction) -> int:
    """`x` rounded to an integer, halves away from zero (9: 1.225 -> 1.23 in cents).

    >>> round_half_up(Fraction(5, 2)), round_half_up(Fraction(-5, 2))
    (3, -3)
    """
    num, den = x.numerator, x.denominator
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def percent_of(amount: int, percent: Fraction) -> int:
    """`amount x percent / 100`, rounded half-up once, without building a Fraction.

    >>> percent_of(2045, Fraction(10)), percent_of(1225, Fraction(25, 2))
    (205, 153)
    """
    # One call rather than the two Python-level properties `numerator` and `denominator`.
    numerator, denominator = percent.as_integer_ratio()
    num = amount * numerator
    den = denominator * 100
    q, r = divmod(num, den)
    # divmod floors toward -inf; amounts here are never negative, so this is half-up.
    return q + 1 if 2 * r >= den else q


def split(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` by largest remainder (9.1): integer parts of the quotas
    first, then one unit each to the largest fractions, ties to the earlier part.

    >>> split(1000, [1000, 1000, 1000]), split(1000, [1000, 2000, 4000])
    ([334, 333, 333], [143, 286, 571])
    """
    if len(weights) == 1:
        return [total]
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("split needs a positive total weight")
    # Loops rather than comprehensions: this runs once per discount and request.
    shares = []
    remainders = []
    left = total
    for w in weights:
        quota = total * w
        q = quota // whole
        shares.append(q)
        remainders.append(quota - q * whole)
        left -= q
    if left == 1:
        # The usual case: the first of the largest remainders gets the unit (`max` keeps
        # the first of equal ones).
        shares[max(range(len(remainders)), key=remainders.__getitem__)] += 1
    elif left:
        # sorted() stays stable with reverse=True: equal remainders keep the earlier part.
        for i in sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)[:left]:
            shares[i] += 1
    return shares


def unit_amounts(line_amount: int, qty: int) -> list[int]:
    """A line's amount split over its units by 9.1 with equal weights (9.3): the first
    `line_amount mod qty` units get one minor unit more.

    >>> unit_amounts(2900, 3)
    [967, 967, 966]
    """
    q, r = divmod(line_amount, qty)
    return [q + 1] * r + [q] * (qty - r)


def unit_groups(line_amount: int, qty: int) -> tuple[tuple[int, int], ...]:
    """The unit amounts of 9.3 as (amount, count) pairs: the same multiset as
    `unit_amounts` without one list entry per unit (a line may hold many units)."""
    q, r = divmod(line_amount, qty)
    if r == 0:
        return ((q, qty),)
    return ((q + 1, r), (q, qty - r))


def cheapest_sum(groups: Sequence[tuple[int, int]], count: int) -> int:
    """The sum of the `count` smallest unit amounts among (amount, count) pairs."""
    total = 0
    for amount, n in sorted(groups):
        take = n if n < count else count
        total += amount * take
        count -= take
        if count == 0:
            break
    return total
