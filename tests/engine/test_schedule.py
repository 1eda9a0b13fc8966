"""engine/schedule.py: windows and schedules of LANGUAGE.md 6.1, 6.2 and
windows_schedules.yaml."""

from __future__ import annotations

import pytest

from dsl.localtime import parse_instant, zone
from dsl.model import Campaign, Slot, Window
from engine.schedule import schedule_open, window_reason

SHANGHAI = zone("Asia/Shanghai")
NEW_YORK = zone("America/New_York")
HM = 3600


def ts(text: str) -> int:
    return parse_instant(text)


def window(start: str, end: str) -> Window:
    return Window(ts(start), ts(end))


def slot(kind: str, days: set[int], *ranges: tuple[int, int]) -> Slot:
    return Slot(kind, frozenset(days), tuple(ranges))  # type: ignore[arg-type]


def campaign_in(run: Window) -> Campaign:
    return Campaign(
        id="day11", title=None, ruleset_id="windows", index=0, tier=None, goal=None,
        window=run, schedule=(), priority=0, group="windows:day11", group_name=None,
        stage="platform", referral=None, limits=(), budgets=(), kind="automatic",
        discount=None, rewards=(), lottery=None, check=lambda ctx, bound, lists: 0,
    )  # fmt: skip


def test_window_bounds_are_inclusive() -> None:
    day11 = campaign_in(window("2026-11-11T00:00:00+08:00", "2026-11-11T23:59:59+08:00"))
    assert window_reason(day11, ts("2026-11-10T23:59:59+08:00")) == "not_started"
    assert window_reason(day11, ts("2026-11-10T16:00:00Z")) is None
    assert window_reason(day11, ts("2026-11-11T23:59:59+08:00")) is None
    assert window_reason(day11, ts("2026-11-12T00:00:00+08:00")) == "ended"


NIGHT = (slot("daily", set(), (12 * HM, 12 * HM + 300), (22 * HM, 2 * HM)),)
JUNE = window("2026-06-01T00:00:00+08:00", "2026-06-03T23:59:59+08:00")


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        ("2026-06-01T21:59:59+08:00", False),
        ("2026-06-01T22:00:00+08:00", True),
        ("2026-06-01T15:59:59Z", True),
        ("2026-06-02T00:00:00+08:00", True),
        ("2026-06-02T02:00:00+08:00", True),
        ("2026-06-02T02:00:01+08:00", False),
        ("2026-06-02T12:03:00+08:00", True),
        ("2026-06-03T01:59:00+08:00", True),
        ("2026-06-03T11:59:59+08:00", False),
        ("2026-06-03T12:05:00+08:00", True),
        ("2026-06-03T12:05:01+08:00", False),
        ("2026-06-03T22:00:00+08:00", True),
        # the slot of 3 June runs past the window's end: the window still applies
        ("2026-06-04T00:30:00+08:00", False),
        # 31 May's slot is open for its part inside the window
        ("2026-06-01T01:00:00+08:00", True),
        ("2026-06-01T02:00:01+08:00", False),
    ],
)
def test_daily_slots_one_past_midnight(at: str, is_open: bool) -> None:
    assert schedule_open(NIGHT, JUNE, ts(at), SHANGHAI) is is_open


NOVEMBER = window("2026-11-01T00:00:00+08:00", "2026-11-30T23:59:59+08:00")
WEDNESDAY = (slot("weekly", {3}),)
FRIDAY_NIGHT = (slot("weekly", {5}, (22 * HM, 2 * HM)),)
PAYDAY = (slot("monthly", {10, 25}, (12 * HM, 13 * HM)),)
TO_YEAR_END = window("2026-11-01T00:00:00+08:00", "2026-12-31T23:59:59+08:00")


@pytest.mark.parametrize(
    ("at", "wednesday", "friday_night", "payday"),
    [
        ("2026-11-11T08:00:00+08:00", True, False, False),
        ("2026-11-11T00:00:00+08:00", True, False, False),
        ("2026-11-11T23:59:59+08:00", True, False, False),
        ("2026-11-12T00:00:00+08:00", False, False, False),
        ("2026-11-12T01:00:00+08:00", False, False, False),
        ("2026-11-13T23:30:00+08:00", False, True, False),
        ("2026-11-14T01:59:59+08:00", False, True, False),  # still Friday's slot
        ("2026-11-14T02:00:01+08:00", False, False, False),
        ("2026-11-14T22:30:00+08:00", False, False, False),
        ("2026-11-10T12:30:00+08:00", False, False, True),
        ("2026-11-25T13:00:00+08:00", True, False, True),
        ("2026-11-25T13:00:01+08:00", True, False, False),
        ("2026-11-25T11:59:59+08:00", True, False, False),
    ],
)
def test_weekly_and_monthly(at: str, wednesday: bool, friday_night: bool, payday: bool) -> None:
    now = ts(at)
    assert schedule_open(WEDNESDAY, NOVEMBER, now, SHANGHAI) is wednesday
    assert schedule_open(FRIDAY_NIGHT, NOVEMBER, now, SHANGHAI) is friday_night
    assert schedule_open(PAYDAY, TO_YEAR_END, now, SHANGHAI) is payday


def test_outside_the_window_nothing_is_open() -> None:
    december = ts("2026-12-10T12:00:00+08:00")
    assert not schedule_open(WEDNESDAY, NOVEMBER, ts("2026-12-02T12:00:00+08:00"), SHANGHAI)
    assert schedule_open(PAYDAY, TO_YEAR_END, december, SHANGHAI)
    assert not schedule_open((), NOVEMBER, december, SHANGHAI)
    assert schedule_open((), NOVEMBER, ts("2026-11-30T23:59:59+08:00"), SHANGHAI)


def test_a_month_without_the_day_is_skipped() -> None:
    thirty_first = (slot("monthly", {31}, (22 * HM, 2 * HM)),)
    year = window("2026-01-01T00:00:00+08:00", "2026-12-31T23:59:59+08:00")
    assert schedule_open(thirty_first, year, ts("2026-11-01T01:00:00+08:00"), SHANGHAI)
    assert not schedule_open(thirty_first, year, ts("2026-12-01T01:00:00+08:00"), SHANGHAI)
    assert schedule_open(thirty_first, year, ts("2026-12-31T23:00:00+08:00"), SHANGHAI)
    whole = (slot("monthly", {31}),)
    assert not schedule_open(whole, year, ts("2026-11-30T12:00:00+08:00"), SHANGHAI)
    assert schedule_open(whole, year, ts("2026-10-31T12:00:00+08:00"), SHANGHAI)


def test_slot_times_follow_the_dst_rule() -> None:
    year = window("2026-01-01T00:00:00-05:00", "2026-12-31T23:59:59-05:00")
    # 02:30 does not exist on 8 March: it moves forward to 03:30 EDT
    early = (slot("daily", set(), (2 * HM + 1800, 4 * HM)),)
    assert not schedule_open(early, year, ts("2026-03-08T03:29:59-04:00"), NEW_YORK)
    assert schedule_open(early, year, ts("2026-03-08T03:30:00-04:00"), NEW_YORK)
    # 01:30 exists twice on 1 November: a slot ending then ends at the first one
    night = (slot("daily", set(), (1 * HM, 1 * HM + 1800)),)
    assert schedule_open(night, year, ts("2026-11-01T01:30:00-04:00"), NEW_YORK)
    assert not schedule_open(night, year, ts("2026-11-01T01:00:00-05:00"), NEW_YORK)
    # a whole-day slot on the 25-hour day covers all of it
    sunday = (slot("weekly", {7}),)
    assert schedule_open(sunday, year, ts("2026-11-01T23:59:59-05:00"), NEW_YORK)
    assert not schedule_open(sunday, year, ts("2026-11-02T00:00:00-05:00"), NEW_YORK)
