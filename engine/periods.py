"""Quota periods (LANGUAGE.md 6.3): which period an instant falls in, and when it ends.

A period id is part of a counter's key, so two instants count together exactly when
their ids are equal:

| period       | id                 | example       |
| ------------ | ------------------ | ------------- |
| `day`        | local date         | `2026-11-05`  |
| `week`       | local ISO week     | `2026-W45`    |
| `month`      | local month        | `2026-11`     |
| a duration d | `{d}s-{n}`, n = floor((unix + utc_offset) / d) | `60s-29368200` |

Days, weeks and months start at local midnight, which becomes an instant by the DST rule
of LANGUAGE.md 6 (`dsl.localtime.instant`). Duration windows are numbered on the local
wall clock, so `per 1h` starts on the local hour in Asia/Kolkata, and when the clocks go
back the repeated local times get the ids they had the first time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from dsl.localtime import instant, utc_offset
from dsl.model import Period

ONE_DAY = dt.timedelta(days=1)
_WALL_EPOCH = dt.datetime(1970, 1, 1)


@lru_cache(maxsize=4096)
def midnight(day: dt.date, tz: ZoneInfo) -> int:
    """The instant local `day` starts (6: a skipped midnight moves forward, a repeated
    one is the earlier instant). Cached: schedules and periods ask for few days."""
    return instant(day, 0, tz)


def local_day(now: int, tz: ZoneInfo) -> dt.date:
    """The local day that instant `now` belongs to: the day whose midnight is the last one
    at or before `now`."""
    known = _LAST_DAY.get(tz)
    if known is not None and known[0] <= now < known[1]:
        return known[2]
    day = dt.datetime.fromtimestamp(now, tz).date()
    following = day + ONE_DAY
    # A zone that sets its clocks back across midnight reaches the next day's midnight
    # while the local date still shows the day before.
    if now >= midnight(following, tz):
        day, following = following, following + ONE_DAY
    _LAST_DAY[tz] = (midnight(day, tz), midnight(following, tz), day)
    return day


# The day most recently asked for, per zone, with its bounds: every request of a day
# finds it without converting the instant to local time.
_LAST_DAY: dict[ZoneInfo, tuple[int, int, dt.date]] = {}


def period_id(period: Period, now: int, tz: ZoneInfo) -> str:
    """The id of the period of `period` containing instant `now` (see the module table).

    >>> from dsl.localtime import parse_instant, zone
    >>> at = parse_instant("2026-11-10T18:30:00Z")  # 00:00 on 11 November in Kolkata
    >>> period_id(Period("day"), at, zone("Asia/Kolkata"))
    '2026-11-11'
    >>> period_id(Period("week"), at, zone("UTC")), period_id(Period("month"), at, zone("UTC"))
    ('2026-W46', '2026-11')
    """
    if period.kind == "seconds":
        window = (now + utc_offset(now, tz)) // period.seconds
        return f"{period.seconds}s-{window}"
    day = local_day(now, tz)
    if period.kind == "day":
        return day.isoformat()
    if period.kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def period_end(period: Period, now: int, tz: ZoneInfo) -> int:
    """The exclusive end of the period containing `now`: the first instant from which
    `period_id` never gives that id again. Stores use it only to expire keys."""
    if period.kind == "seconds":
        window = (now + utc_offset(now, tz)) // period.seconds
        return _wall_clock_end((window + 1) * period.seconds, tz)
    day = local_day(now, tz)
    if period.kind == "day":
        return midnight(day + ONE_DAY, tz)
    if period.kind == "week":
        return midnight(day + dt.timedelta(days=8 - day.isoweekday()), tz)
    first = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return midnight(first, tz)


def _wall_clock_end(wall_seconds: int, tz: ZoneInfo) -> int:
    """The last instant at which the local wall clock reads `wall_seconds` (seconds since
    1970-01-01 00:00 local), or, in a gap, the instant the gap ends."""
    local = _WALL_EPOCH + dt.timedelta(seconds=wall_seconds)
    # fold=1 is the later of two repeated instants; fold=0 lands after a gap.
    first = int(local.replace(tzinfo=tz, fold=0).timestamp())
    second = int(local.replace(tzinfo=tz, fold=1).timestamp())
    return max(first, second)
