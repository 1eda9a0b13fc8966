"""Time in the compiled model (LANGUAGE.md 6, 8): campaign windows, schedules, coupon
validity and quota periods. Every local date-time becomes unix seconds in the ruleset's
timezone, under the DST rule of section 6 (`dsl.localtime.instant`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from dsl import ast as A
from dsl import model as M
from dsl.localtime import DAY, instant
from dsl.vocabulary import WEEKDAYS

__all__ = ["TimeBuilder", "period", "slot"]


class TimeBuilder:
    """The instants of one ruleset's timezone."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def instant(self, when: A.DateTime, *, end: bool = False) -> int:
        """A date alone is 00:00:00, or 23:59:59 when it ends a range (6.1)."""
        assert when.date.value is not None
        if when.time is None:
            seconds = DAY - 1 if end else 0
        else:
            assert when.time.seconds is not None
            seconds = when.time.seconds
        return instant(when.date.value, seconds, self.tz)

    def window(self, item: A.WindowItem) -> M.Window:
        return M.Window(self.instant(item.start), self.instant(item.end, end=True))

    def validity(self, items: Sequence[object]) -> M.Validity:
        """LANGUAGE.md 6.4; a date alone as an end is 23:59:59 of that day."""
        for v in items:
            if isinstance(v, A.ValidFor):
                return M.Validity("after", seconds=v.duration.seconds)
            if isinstance(v, A.ValidUntil):
                return M.Validity("until", end=self.instant(v.until, end=True))
            if isinstance(v, A.ValidRange):
                start, end = self.instant(v.start), self.instant(v.end, end=True)
                return M.Validity("range", start=start, end=end)
        return M.Validity("window")


def slot(item: A.DailyItem | A.WeeklyItem | A.MonthlyItem) -> M.Slot:
    """One schedule item (6.2): its days and its ranges in seconds of the local day."""
    ranges = tuple((_seconds(r.start), _seconds(r.end)) for r in item.ranges)
    if isinstance(item, A.DailyItem):
        return M.Slot("daily", frozenset(), ranges)
    if isinstance(item, A.WeeklyItem):
        days = frozenset(WEEKDAYS.index(d.text) + 1 for d in item.days)
        return M.Slot("weekly", days, ranges)
    return M.Slot("monthly", frozenset(d.value for d in item.days), ranges)


def period(p: A.Period | None) -> M.Period | None:
    """What a quota counts within (6.3); None without `per`: counted in total (8)."""
    if p is None:
        return None
    if p.duration is not None:
        return M.Period("seconds", p.duration.seconds)
    assert p.word is not None
    word: Any = p.word.text
    return M.Period(word)


def _seconds(t: A.TimeLit) -> int:
    assert t.seconds is not None
    return t.seconds
