"""Paced load-test users keep the random phase they start with (loadtests/pacing.py)."""

from __future__ import annotations

import random

from loadtests.pacing import Pacer


def starts(pacer: Pacer, first: float, durations: list[float]) -> list[float]:
    """When each task starts, the first at `first`, each running for its duration."""
    at, found = first, []
    for took in durations:
        found.append(at)
        at += took
        at += pacer.wait(at)
    return found


def test_users_created_together_keep_their_own_phases() -> None:
    rng = random.Random(7)
    phases = [0.13, 0.52, 0.91]
    for phase in phases:
        pacer = Pacer(1.0, now=0.0)  # created at the same instant
        pacer.restart(phase)  # then a random start
        durations = [rng.uniform(0.001, 0.4) for _ in range(50)]
        assert [round(t % 1.0, 9) for t in starts(pacer, phase, durations)] == [phase] * 50


def test_a_task_that_overruns_moves_the_phase_and_the_pace_goes_on_from_there() -> None:
    pacer = Pacer(0.5, now=0.0)
    assert starts(pacer, 0.0, [0.1, 1.2, 0.1, 0.1]) == [0.0, 0.5, 1.7, 2.2]


def test_the_wait_is_the_rest_of_the_period() -> None:
    pacer = Pacer(2.0, now=10.0)
    assert pacer.wait(10.5) == 1.5
    assert pacer.wait(12.25) == 1.75
