"""Windows and schedules (LANGUAGE.md 6.1, 6.2): is a campaign running at an instant?

The window includes both ends. A schedule is a set of recurring slots inside it: a slot
of day D runs from D at its start time to D at its end time (both included), or to the
next day when the end is before the start, and it belongs to the day it starts; a slot
without times is the whole local day. Slot ends become instants by the DST rule of
LANGUAGE.md 6 (`dsl.localtime.instant`), cached since a campaign asks for the same few.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from dsl.localtime import instant
from dsl.model import Campaign, Slot, Window
from engine.periods import ONE_DAY, local_day

_at = lru_cache(maxsize=8192)(instant)


def window_reason(campaign: Campaign, now: int) -> str | None:
    """`not_started` before the window, `ended` after it, None inside (both ends count)."""
    window = campaign.window
    if now < window.start:
        return "not_started"
    if now > window.end:
        return "ended"
    return None


def schedule_open(schedule: Sequence[Slot], window: Window, now: int, tz: ZoneInfo) -> bool:
    """Whether some slot of `schedule` is open at `now`, inside `window` (an empty
    schedule is open during the whole window).

    A slot that runs past midnight belongs to the day it starts, so the slots of the
    previous local day are checked too: `weekly fri 22:00 .. 02:00` is open on Saturday
    at 01:59:59.
    """
    if now < window.start or now > window.end:
        return False
    if not schedule:
        return True
    today = local_day(now, tz)
    yesterday = today - ONE_DAY
    return any(_slot_open(slot, today, yesterday, now, tz) for slot in schedule)


def _runs_on(slot: Slot, day: dt.date) -> bool:
    if slot.kind == "daily":
        return True
    if slot.kind == "weekly":
        return day.isoweekday() in slot.days
    # A month without that day never matches it, so the day is skipped that month.
    return day.day in slot.days


def _slot_open(slot: Slot, today: dt.date, yesterday: dt.date, now: int, tz: ZoneInfo) -> bool:
    if not slot.ranges:
        return _runs_on(slot, today)
    if _runs_on(slot, today):
        tomorrow = today + ONE_DAY
        for start, end in slot.ranges:
            ends_on = today if end > start else tomorrow
            if _at(today, start, tz) <= now <= _at(ends_on, end, tz):
                return True
    if _runs_on(slot, yesterday):
        for start, end in slot.ranges:
            if end < start and _at(yesterday, start, tz) <= now <= _at(today, end, tz):
                return True
    return False
