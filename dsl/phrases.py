"""Compiled values in plain operator words, for `promo explain`.

Amounts come in minor units with the currency's `k` decimals: totals (face values,
budgets, the worst case) print in full, `300,000.00`; amounts inside an offer print
short, `30 off 199`, as operators say them. Instants print in the ruleset's local time.

>>> money(30000000, 2), amount(19900, 2), amount(1990, 2)
('300,000.00', '199', '19.90')
>>> duration(604800), duration(5400)
('7 days', '90 minutes')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from fractions import Fraction
from zoneinfo import ZoneInfo

from dsl import model as M
from dsl.localtime import DAY, local_datetime

_UNITS = ((DAY, "day"), (3600, "hour"), (60, "minute"), (1, "second"))
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_SCOPES = {"user": "user", "device": "device", "ip": "IP"}


def money(minor: int, k: int) -> str:
    """An amount in full, with thousands separators: `300,000.00`."""
    whole, frac = divmod(abs(minor), 10**k)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}" + (f".{frac:0{k}d}" if k else "")


def amount(minor: int, k: int) -> str:
    """An amount as operators write it in an offer: `30`, `19.90`."""
    return money(minor, k) if minor % 10**k else f"{minor // 10**k:,}"


def count(n: int) -> str:
    return f"{n:,}"


def percent(p: Fraction) -> str:
    """`Fraction(25, 2)` -> `12.5%`."""
    if p.denominator == 1:
        return f"{p.numerator}%"
    return f"{float(p):g}%"


def join(words: Sequence[str], last: str = "and") -> str:
    """`a, b and c`."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def duration(seconds: int) -> str:
    for size, unit in _UNITS:
        if seconds % size == 0:
            n = seconds // size
            return f"{n:,} {unit}" + ("" if n == 1 else "s")
    return f"{seconds} seconds"  # pragma: no cover - the second always divides


def period(p: M.Period | None) -> str:
    """How a quota repeats: `a day`, `a minute`, `per 10 minutes`; `in total` without."""
    if p is None:
        return "in total"
    if p.kind != "seconds":
        return f"a {p.kind}"
    text = duration(p.seconds)
    if text.startswith("1 "):
        unit = text[2:]
        return f"an {unit}" if unit == "hour" else f"a {unit}"
    return f"per {text}"


# --- time ---------------------------------------------------------------------------------


def date(ts: int, tz: ZoneInfo) -> str:
    d = local_datetime(ts, tz)
    return f"{d.day} {d:%b %Y}"


def clock(seconds_of_day: int) -> str:
    """`10:00`, or `23:59:59` when the seconds matter."""
    h, rest = divmod(seconds_of_day, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def moment(ts: int, tz: ZoneInfo) -> str:
    return f"{date(ts, tz)} {clock(_of_day(local_datetime(ts, tz)))}"


def span(start: int, end: int, tz: ZoneInfo) -> str:
    """A range of instants, both ends included; whole days print as dates only."""
    first, last = local_datetime(start, tz), local_datetime(end, tz)
    if _of_day(first) == 0 and _of_day(last) == DAY - 1:
        if first.date() == last.date():
            return f"{date(start, tz)}, all day"
        return f"{date(start, tz)} to {date(end, tz)}"
    if first.date() == last.date():
        return f"{moment(start, tz)} to {clock(_of_day(last))}"
    return f"{moment(start, tz)} to {moment(end, tz)}"


def _of_day(d: dt.datetime) -> int:
    return d.hour * 3600 + d.minute * 60 + d.second


def slot(s: M.Slot) -> str:
    """One schedule item: `every day 10:00 to 10:30`, `Wednesdays`."""
    if s.kind == "daily":
        days = "every day"
    elif s.kind == "weekly":
        days = join([_DAYS[d - 1] for d in sorted(s.days)])
    else:
        days = "the " + join([_ordinal(d) for d in sorted(s.days)]) + " of each month"
    if not s.ranges:
        return days
    return f"{days} " + join([_range(a, b) for a, b in s.ranges])


def _range(start: int, end: int) -> str:
    after = " the next day" if end < start else ""
    return f"{clock(start)} to {clock(end)}{after}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def validity(v: M.Validity, tz: ZoneInfo) -> str:
    if v.kind == "after":
        return f"valid {duration(v.seconds)} after claim"
    if v.kind == "until":
        return f"valid until {moment(v.end, tz)}"
    if v.kind == "range":
        return f"valid {span(v.start, v.end, tz)}"
    return "valid until the campaign ends"


# --- quotas -------------------------------------------------------------------------------


def limits(items: Iterable[M.Limit]) -> list[str]:
    """`1 per user`, `1 per device a day`, `10 per IP a minute`."""
    out = []
    for limit in items:
        when = "" if limit.period is None else " " + period(limit.period)
        out.append(f"{count(limit.count)} per {_SCOPES[limit.scope]}{when}")
    return out


def stocks(items: Iterable[M.Stock]) -> list[str]:
    return [f"stock {count(s.count)} {period(s.period)}" for s in items]


def budgets(items: Iterable[M.Budget], k: int) -> list[str]:
    out = []
    for b in items:
        when = "" if b.period is None else " " + period(b.period)
        out.append(f"budget {money(b.amount, k)}{when}")
    return out
