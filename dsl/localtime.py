"""Local wall-clock time in a ruleset's timezone, to the whole second (LANGUAGE.md 6).

One rule turns a local date and time into an instant: a local time that does not exist
(clocks go forward) moves forward by the gap, and one that exists twice (clocks go back)
means the earlier instant. `datetime(..., fold=0).timestamp()` does exactly that: for a
time in a gap it uses the offset from before the transition, which lands the length of
the gap later; for a repeated time it takes the first occurrence.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY = 86_400


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (from the system or the tzdata package)."""
    # The system database also lists `localtime` (this machine's zone) and `Factory`:
    # not zones a ruleset may name.
    return frozenset(available_timezones()) - {"localtime", "Factory"}


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises KeyError when there is no such zone. Only real zone
    names count: `localtime` or a file path is not a timezone of a ruleset."""
    if name not in zone_names():
        raise KeyError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise KeyError(name) from exc


def instant(day: dt.date, seconds_of_day: int, tz: ZoneInfo) -> int:
    """Unix seconds of local `day` at `seconds_of_day` (0..86399) in `tz`.

    >>> instant(dt.date(2026, 3, 8), 2 * 3600 + 1800, zone("America/New_York"))
    1772955000
    """
    h, rest = divmod(seconds_of_day, 3600)
    m, s = divmod(rest, 60)
    local = dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=tz, fold=0)
    return int(local.timestamp())


def local_datetime(ts: int, tz: ZoneInfo) -> dt.datetime:
    """The aware local date-time of unix second `ts`."""
    return dt.datetime.fromtimestamp(ts, tz)


def utc_offset(ts: int, tz: ZoneInfo) -> int:
    """The zone's offset from UTC at instant `ts`, in seconds."""
    offset = local_datetime(ts, tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=4096)
def iso(ts: int, tz: ZoneInfo) -> str:
    """ISO 8601 with the local offset: `2026-11-01T10:00:05+08:00`. Cached: the claims of
    one second share their validity bounds."""
    return local_datetime(ts, tz).isoformat()


def parse_instant(text: str) -> int:
    """Unix seconds of an ISO 8601 date-time that carries an offset (or `Z`); fractions of
    a second are dropped, as the engine clock drops them. Raises ValueError otherwise."""
    value = dt.datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    whole = value.replace(microsecond=0)
    return int(whole.timestamp())
