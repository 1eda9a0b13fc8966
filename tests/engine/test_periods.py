"""engine/periods.py: LANGUAGE.md 6.3 periods on the local clock, across DST changes."""

from __future__ import annotations

import datetime as dt

import pytest

from dsl.localtime import parse_instant, zone
from dsl.model import Period
from engine.periods import local_day, midnight, period_end, period_id

SHANGHAI = zone("Asia/Shanghai")
KOLKATA = zone("Asia/Kolkata")
NEW_YORK = zone("America/New_York")
DAY, WEEK, MONTH = Period("day"), Period("week"), Period("month")
MINUTE, HOUR, HOURS24 = Period("seconds", 60), Period("seconds", 3600), Period("seconds", 86400)


def ts(text: str) -> int:
    return parse_instant(text)


def test_a_day_is_the_local_date_not_the_utc_date() -> None:
    assert period_id(DAY, ts("2026-11-05T07:59:00+08:00"), SHANGHAI) == "2026-11-05"
    assert period_id(DAY, ts("2026-11-05T00:00:00Z"), SHANGHAI) == "2026-11-05"
    assert period_id(DAY, ts("2026-11-05T15:59:59Z"), SHANGHAI) == "2026-11-05"
    assert period_id(DAY, ts("2026-11-05T16:00:00Z"), SHANGHAI) == "2026-11-06"
    assert period_end(DAY, ts("2026-11-05T07:59:00+08:00"), SHANGHAI) == ts(
        "2026-11-06T00:00:00+08:00"
    )


def test_a_week_is_the_local_iso_week_from_monday_midnight() -> None:
    sunday_night = ts("2026-11-08T23:59:59+08:00")
    monday = ts("2026-11-09T00:00:00+08:00")
    assert period_id(WEEK, ts("2026-11-05T10:00:00+08:00"), SHANGHAI) == "2026-W45"
    assert period_id(WEEK, sunday_night, SHANGHAI) == "2026-W45"
    assert period_id(WEEK, monday, SHANGHAI) == "2026-W46"
    assert period_end(WEEK, ts("2026-11-05T10:00:00+08:00"), SHANGHAI) == monday
    assert period_end(WEEK, sunday_night, SHANGHAI) == monday
    assert period_end(WEEK, monday, SHANGHAI) == ts("2026-11-16T00:00:00+08:00")
    # ISO years: 2027-01-01 is a Friday of week 53 of 2026
    assert period_id(WEEK, ts("2027-01-01T12:00:00+08:00"), SHANGHAI) == "2026-W53"


def test_a_month_is_the_local_calendar_month() -> None:
    assert period_id(MONTH, ts("2026-11-30T16:00:00Z"), SHANGHAI) == "2026-12"
    assert period_id(MONTH, ts("2026-11-30T15:59:59Z"), SHANGHAI) == "2026-11"
    assert period_end(MONTH, ts("2026-11-15T00:00:00+08:00"), SHANGHAI) == ts(
        "2026-12-01T00:00:00+08:00"
    )
    assert period_end(MONTH, ts("2026-12-15T00:00:00+08:00"), SHANGHAI) == ts(
        "2027-01-01T00:00:00+08:00"
    )


def test_minute_windows_are_fixed_not_sliding() -> None:
    a = period_id(MINUTE, ts("2026-11-08T10:00:00+08:00"), SHANGHAI)
    assert period_id(MINUTE, ts("2026-11-08T10:00:59+08:00"), SHANGHAI) == a
    assert period_id(MINUTE, ts("2026-11-08T10:01:00+08:00"), SHANGHAI) != a
    assert period_end(MINUTE, ts("2026-11-08T10:00:17+08:00"), SHANGHAI) == ts(
        "2026-11-08T10:01:00+08:00"
    )


def test_hour_windows_start_on_the_local_hour_in_kolkata() -> None:
    ten = period_id(HOUR, ts("2026-11-08T10:00:00+05:30"), KOLKATA)
    assert period_id(HOUR, ts("2026-11-08T10:29:59+05:30"), KOLKATA) == ten
    assert period_id(HOUR, ts("2026-11-08T10:30:00+05:30"), KOLKATA) == ten
    assert period_id(HOUR, ts("2026-11-08T10:59:59+05:30"), KOLKATA) == ten
    assert period_id(HOUR, ts("2026-11-08T09:59:59+05:30"), KOLKATA) != ten
    assert period_id(HOUR, ts("2026-11-08T11:00:00+05:30"), KOLKATA) != ten
    assert period_end(HOUR, ts("2026-11-08T10:45:00+05:30"), KOLKATA) == ts(
        "2026-11-08T11:00:00+05:30"
    )


def test_per_24h_equals_per_day() -> None:
    start = ts("2026-11-01T00:00:00+08:00")
    for offset in range(0, 5 * 86400, 3917):
        a, b = start + offset, start + offset + 7919
        same_day = period_id(DAY, a, SHANGHAI) == period_id(DAY, b, SHANGHAI)
        assert same_day == (period_id(HOURS24, a, SHANGHAI) == period_id(HOURS24, b, SHANGHAI))


def test_the_repeated_hour_counts_with_the_first_one_in_new_york() -> None:
    first = ts("2026-11-01T01:30:00-04:00")  # EDT
    again = ts("2026-11-01T01:30:00-05:00")  # EST, one hour later
    assert period_id(HOUR, first, NEW_YORK) == period_id(HOUR, again, NEW_YORK)
    assert period_id(HOUR, ts("2026-11-01T01:59:59-05:00"), NEW_YORK) == period_id(
        HOUR, first, NEW_YORK
    )
    assert period_id(HOUR, ts("2026-11-01T02:00:00-05:00"), NEW_YORK) != period_id(
        HOUR, first, NEW_YORK
    )
    assert period_id(HOUR, ts("2026-11-01T00:59:59-04:00"), NEW_YORK) != period_id(
        HOUR, first, NEW_YORK
    )
    # the id is used again until the repeated hour is over
    assert period_end(HOUR, first, NEW_YORK) == ts("2026-11-01T02:00:00-05:00")
    assert period_end(MINUTE, ts("2026-11-01T01:30:10-04:00"), NEW_YORK) == ts(
        "2026-11-01T01:31:00-05:00"
    )
    assert period_id(MINUTE, ts("2026-11-01T01:30:10-04:00"), NEW_YORK) == period_id(
        MINUTE, ts("2026-11-01T01:30:40-05:00"), NEW_YORK
    )


def test_skipped_windows_never_occur_when_clocks_go_forward() -> None:
    before = ts("2026-03-08T01:59:59-05:00")  # EST; next second is 03:00 EDT
    after = before + 1
    assert period_end(HOUR, before, NEW_YORK) == after == ts("2026-03-08T03:00:00-04:00")
    ids = {period_id(HOUR, t, NEW_YORK) for t in range(before - 3600, after + 3600, 60)}
    assert len(ids) == 3  # the 01:00, 03:00 and 04:00 windows; no 02:00 window


def test_days_last_23_and_25_hours_across_dst() -> None:
    spring = ts("2026-03-08T12:00:00-04:00")
    autumn = ts("2026-11-01T12:00:00-05:00")
    assert period_end(DAY, spring, NEW_YORK) - midnight(dt.date(2026, 3, 8), NEW_YORK) == 23 * 3600
    assert period_end(DAY, autumn, NEW_YORK) - midnight(dt.date(2026, 11, 1), NEW_YORK) == 25 * 3600
    assert period_id(DAY, ts("2026-11-01T23:59:59-05:00"), NEW_YORK) == "2026-11-01"
    assert period_id(DAY, ts("2026-11-02T00:00:00-05:00"), NEW_YORK) == "2026-11-02"


@pytest.mark.parametrize(
    ("name", "text", "day"),
    [("America/New_York", "2026-03-08T03:30:00-04:00", "2026-03-08"),
     ("Asia/Kolkata", "2026-11-10T23:59:59+05:30", "2026-11-10"),
     ("Asia/Kolkata", "2026-11-10T18:30:00Z", "2026-11-11")],
)  # fmt: skip
def test_local_day(name: str, text: str, day: str) -> None:
    assert local_day(ts(text), zone(name)).isoformat() == day


def test_a_day_starts_at_its_first_midnight_when_clocks_go_back_across_it() -> None:
    # Goose Bay set its clocks back from 2000-10-29 00:01 to 2000-10-28 23:01: the local
    # date reads 10-28 again for an hour, but 10-29 began at its (first) midnight.
    goose_bay = zone("America/Goose_Bay")
    first = midnight(dt.date(2000, 10, 29), goose_bay)
    assert first == ts("2000-10-29T00:00:00-03:00")
    assert local_day(first - 1, goose_bay).isoformat() == "2000-10-28"
    for later in (first, first + 59, first + 60, first + 3000):
        assert local_day(later, goose_bay).isoformat() == "2000-10-29"
    assert period_id(DAY, first + 3000, goose_bay) == "2000-10-29"
    assert period_end(DAY, first - 1, goose_bay) == first
