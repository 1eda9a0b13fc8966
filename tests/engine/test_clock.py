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


def test_rehearsal_clocks_made_apart_tick_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers of one `promo serve` make their clocks 0.7 s apart from the same start
    and origin: they show the same second at every instant."""
    wall, mono = [1000.2], [50.0]
    monkeypatch.setattr(time, "time", lambda: wall[0])
    monkeypatch.setattr(time, "monotonic", lambda: mono[0])

    def at(moment: float) -> None:  # both clocks move together
        mono[0] += moment - wall[0]
        wall[0] = moment

    at(1000.5)
    first = RehearsalClock(1_800_000_000, started_at=1000.2)
    at(1001.2)
    second = RehearsalClock(1_800_000_000, started_at=1000.2)
    for moment in (1001.2, 1001.25, 1001.7, 1002.19, 1002.21, 1003.9):
        at(moment)
        assert first.now() == second.now() == 1_800_000_000 + int(moment - 1000.2), moment


def test_every_clock_is_a_clock() -> None:
    clocks: list[Clock] = [SystemClock(), FixedClock(0), RehearsalClock(0)]
    assert all(isinstance(c.now(), int) for c in clocks)
