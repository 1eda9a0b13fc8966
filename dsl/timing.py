"""Time items (LANGUAGE.md 6): the window, schedules and coupon validity.

Instants are compared in the ruleset timezone with the DST rule of section 6; a date
alone ends a range at 23:59:59. An end written `HH:59` without seconds gets a warning
(11.4): it ends at `HH:59:00`, which is rarely what was meant.
"""

from __future__ import annotations

from dsl import ast
from dsl.report import Report, Settings, keyword_span
from dsl.values import check_datetime, check_time, check_word, instant_of
from dsl.vocabulary import WEEKDAYS

Schedule = ast.DailyItem | ast.WeeklyItem | ast.MonthlyItem


def check_window(item: ast.WindowItem, settings: Settings, report: Report) -> int | None:
    """Check a window; its end instant, or None when it cannot be placed in time."""
    ok = check_datetime(item.start, report) & check_datetime(item.end, report)
    _warn_minute_59(item.end.time, "the window", report)
    if not ok:
        return None
    start = instant_of(item.start, settings.tz)
    end = instant_of(item.end, settings.tz, end=True)
    if start is None or end is None:
        return None
    if end < start:
        report.error("window ends before it starts", keyword_span(item.span, "window"))
        return None
    return end


def check_schedule(item: Schedule, report: Report) -> None:
    if isinstance(item, ast.WeeklyItem):
        for day in item.days:
            check_word(day, "weekday", WEEKDAYS, report)
    elif isinstance(item, ast.MonthlyItem):
        for number in item.days:
            if number.value < 1:
                report.error("day of month must be at least 1", number.span)
            elif number.value > 31:
                report.error("day of month must be 1 to 31", number.span)
    for time_range in item.ranges:
        _check_range(time_range, report)


def _check_range(time_range: ast.TimeRange, report: Report) -> None:
    start, end = time_range.start, time_range.end
    ok = check_time(start, report) & check_time(end, report)
    _warn_minute_59(end, "the time range", report)
    if ok and start.seconds == end.seconds:
        report.error(
            f"empty time range: {start.text} .. {end.text} starts and ends at the same time",
            start.span,
        )


def check_validity(
    validity: ast.ValidFor | ast.ValidUntil | ast.ValidRange,
    window_end: int | None,
    settings: Settings,
    report: Report,
) -> None:
    """`valid …` of a coupon: its end must not be before the campaign window's end (6.4),
    so that no claim issues a coupon that has already expired."""
    at = keyword_span(validity.span, "valid")
    if isinstance(validity, ast.ValidFor):
        if validity.duration.seconds <= 0:
            report.error("a validity must be more than 0 seconds long", validity.duration.span)
        return
    if isinstance(validity, ast.ValidUntil):
        _warn_minute_59(validity.until.time, "the validity", report)
        if not check_datetime(validity.until, report):
            return
        end = instant_of(validity.until, settings.tz, end=True)
    else:
        _warn_minute_59(validity.end.time, "the validity", report)
        if not check_datetime(validity.start, report) & check_datetime(validity.end, report):
            return
        start = instant_of(validity.start, settings.tz)
        end = instant_of(validity.end, settings.tz, end=True)
        if start is not None and end is not None and end < start:
            report.error("validity ends before it starts", at)
            return
    if end is not None and window_end is not None and end < window_end:
        report.error(
            "validity ends before the window ends, so late claims would issue "
            "coupons that have already expired",
            at,
        )


def _warn_minute_59(time: ast.TimeLit | None, what: str, report: Report) -> None:
    if time is None or time.seconds is None or time.has_seconds:
        return
    if (time.seconds // 60) % 60 == 59:
        hh_mm = f"{time.seconds // 3600:02d}:59"
        report.warn(
            f"{what} ends at {hh_mm}:00, not {hh_mm}:59; write {hh_mm}:59 to include "
            "the whole last minute",
            time.span,
        )
