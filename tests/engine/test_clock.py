"""engine/clock.py: injected clocks in whole seconds."""

from __future__ import annotations

import time

import pytest

from engine.clock import Clock, FixedClock, RehearsalClock, SystemClock


def test_fixed_clock_stays_where_it_is_set() -> None:
    clock = FixedClock(1_700_000_000)
    assert clock.now() == clock.now() == 1_700_000_000
    clock.set(1_800_000_000)
    clock.advance(5)
    assert clock.now() == 1_800_000_005


def test_system_clock_is_whole_seconds_of_now() -> None:
    before = int(time.time())
    now = SystemClock().now()
    assert isinstance(now, int)
    assert before <= now <= int(time.time())


def test_rehearsal_clock_runs_from_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([100.0, 100.4, 102.9])
    monkeypatch.setattr(time, "monotonic", lambda: next(ticks))
    clock = RehearsalClock(1_800_000_000)
    assert clock.now() == 1_800_000_000
    assert clock.now() == 1_800_000_002


def test_every_clock_is_a_clock() -> None:
    clocks: list[Clock] = [SystemClock(), FixedClock(0), RehearsalClock(0)]
    assert all(isinstance(c.now(), int) for c in clocks)
