"""Checks of single written values (LANGUAGE.md 2.4, 11.2 "Values"): dates and times the
parser could not decode, amounts in the ruleset currency, counts, percentages, periods
and the fixed words of 2.3. Each check reports at most one error and says whether the
value is usable, so that checks built on it (window order, …) are skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from dsl import ast
from dsl.errors import Span
from dsl.localtime import DAY, instant
from dsl.report import Report, Settings
from dsl.suggest import unknown_word
from dsl.vocabulary import PERIODS, SCOPES

END_OF_DAY = DAY - 1
"""A date alone as the end of a range means 23:59:59 (LANGUAGE.md 6.1)."""


def check_date(date: ast.DateLit, report: Report) -> bool:
    if date.value is None:
        report.error(f"invalid date '{date.text}'", date.span)
        return False
    return True


def check_time(time: ast.TimeLit, report: Report) -> bool:
    if time.seconds is None:
        report.error(f"invalid time '{time.text}'", time.span)
        return False
    return True


def check_datetime(value: ast.DateTime, report: Report) -> bool:
    date_ok = check_date(value.date, report)
    time_ok = value.time is None or check_time(value.time, report)
    return date_ok and time_ok


def instant_of(value: ast.DateTime, tz: ZoneInfo, *, end: bool = False) -> int | None:
    """Unix seconds of a checked date-time; a date alone is 00:00:00, or 23:59:59 when it
    ends a range. None when the date or time is invalid (already reported)."""
    if value.date.value is None:
        return None
    if value.time is None:
        seconds: int | None = END_OF_DAY if end else 0
    else:
        seconds = value.time.seconds
    if seconds is None:
        return None
    try:
        return instant(value.date.value, seconds, tz)
    except (OverflowError, ValueError):
        return None  # a year the platform cannot place; nothing sensible to compare


# Counters and amounts travel to Redis's Lua as doubles, exact below 2**53: amounts in minor
# units and counts must stay well below it. A trillion is more than any campaign needs.
LARGEST = 10**12


def check_size(value: Decimal | int, span: Span, what: str, report: Report) -> bool:
    if value > LARGEST:
        report.error(f"{what} must be at most {LARGEST:,}", span)
        return False
    return True


def check_amount(amount: ast.Number, what: str, report: Report, settings: Settings) -> bool:
    """An amount of money (value, spend, save, every, cap, min spend, budget, per)."""
    if amount.value <= 0:
        report.error(f"{what} must be more than 0", amount.span)
        return False
    if not check_size(amount.value, amount.span, what, report):
        return False
    return check_decimals(amount.value, amount.text, amount.span, report, settings)


def check_decimals(
    value: Decimal, text: str, span: Span, report: Report, settings: Settings
) -> bool:
    """At most the currency's minor units after the point (LANGUAGE.md 2.4, 13.2)."""
    digits = len(text.split(".", 1)[1]) if "." in text else 0
    limit = settings.minor_units
    if limit is None or digits <= limit:
        return True
    message = f"{settings.currency} amounts have at most {limit} decimal places"
    if limit == 0:
        message += f" ({settings.currency} has no minor unit)"
    report.error(message, span)
    return False


def check_count(value: Decimal | int, span: Span, what: str, report: Report) -> bool:
    """Counts (stock, limit, qty, buy/get, misses, tier qty, points): whole and >= 1."""
    if value < 1:
        report.error(f"{what} must be at least 1", span)
        return False
    return check_size(value, span, what, report)


def check_percent(percent: ast.Percent, report: Report) -> bool:
    if not 0 < percent.value <= 100:
        report.error("percentage must be more than 0% and at most 100%", percent.span)
        return False
    return True


def check_word(word: ast.Name, kind: str, allowed: Sequence[str], report: Report) -> bool:
    """A word with a fixed meaning in its place (tier, goal, weekday, scope, period …)."""
    if word.text in allowed:
        return True
    report.error(unknown_word(kind, word.text, allowed), word.span)
    return False


def check_period(period: ast.Period | None, report: Report) -> bool:
    """`per day` / `per 10m`: a known period, or a duration of at least one second."""
    if period is None:
        return True
    if period.word is not None:
        return check_word(period.word, "period", PERIODS, report)
    if period.duration is not None and period.duration.seconds <= 0:
        report.error("a period must be more than 0 seconds long", period.duration.span)
        return False
    return True


def check_quota(
    item: ast.LimitItem | ast.StockItem | ast.BudgetItem, report: Report, settings: Settings
) -> None:
    """`limit per SCOPE N`, `stock N`, `budget AMOUNT`, each with its optional period."""
    if isinstance(item, ast.LimitItem):
        check_word(item.scope, "limit scope", SCOPES, report)
        check_count(item.count.value, item.count.span, "a limit", report)
    elif isinstance(item, ast.StockItem):
        check_count(item.count.value, item.count.span, "stock", report)
    else:
        check_amount(item.amount, "a budget", report, settings)
    check_period(item.period, report)
