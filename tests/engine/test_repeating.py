"""engine/repeating.py: a background step repeats through store outages and bugs, and
stop() ends it."""

from __future__ import annotations

import asyncio

import pytest

from engine.repeating import Repeating
from engine.store import StoreUnavailable


async def test_a_failing_step_is_tried_again_and_stop_ends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise StoreUnavailable("down")
        if len(calls) == 2:
            raise ValueError("a bug")

    repeating = Repeating(step, 0.01, "test step")
    repeating.start()
    assert repeating.running
    while len(calls) < 4:
        await asyncio.sleep(0.01)
    await repeating.stop()
    assert not repeating.running
    seen = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == seen  # nothing runs after stop()
    assert "test step failed" in caplog.text and "a bug" in caplog.text
    assert "down" not in caplog.text  # an unavailable store is expected, not an error
