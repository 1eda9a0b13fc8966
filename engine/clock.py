"""The engine clock: whole unix seconds (LANGUAGE.md 6), injected so that tests, the case
runner and rehearsals never depend on wall-clock time.

The engine reads time only through a `Clock`; `SystemClock` is the one place that calls
`time.time()`.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """The current instant in whole unix seconds (fractions dropped)."""
        ...


class SystemClock:
    """The machine's clock, truncated to the second."""

    __slots__ = ()

    def now(self) -> int:
        return int(time.time())


class FixedClock:
    """A clock that stays where it is set (the case runner's `at` steps).

    >>> c = FixedClock(1_700_000_000); c.set(c.now() + 5); c.now()
    1700000005
    """

    __slots__ = ("_t",)

    def __init__(self, t: int) -> None:
        self._t = t

    def set(self, t: int) -> None:
        self._t = t

    def advance(self, seconds: int) -> None:
        self._t += seconds

    def now(self) -> int:
        return self._t


class RehearsalClock:
    """A clock that showed `start` at wall-clock time `started_at` (default: now) and runs
    in real time from there: rehearse a sale day ahead of time. Every process given the
    same two values ticks at the same instants, so that a coupon issued by one worker at
    second S is never redeemed by another that still shows S - 1 (`not_yet_valid`).
    Monotonic once made, so a wall-clock adjustment never moves it backwards."""

    __slots__ = ("_origin", "_start")

    def __init__(self, start: int, started_at: float | None = None) -> None:
        self._start = start
        # The monotonic reading that corresponds to `started_at` on the wall clock.
        behind = 0.0 if started_at is None else time.time() - started_at
        self._origin = time.monotonic() - behind

    def now(self) -> int:
        return self._start + int(time.monotonic() - self._origin)
