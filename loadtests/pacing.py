"""Paced users that keep their own phase.

With `--pace`, every user runs one task per period. Each user starts at a random point of
its period (PromoUser.on_start), so that users spawned together do not send their tasks
as one burst every period. Locust's `constant_throughput` counts its first wait from the
user's creation, which undid that random start: users created together came back in
step, and the service saw their tasks as one burst a second. At 450 users of the mixed
scenario, both workers then queued 20 to 40 ms of work once a second, and a side client
saw p99 15 to 20 ms; with this pacer, 1.4 to 1.5 ms (2026-11-29).
"""

from __future__ import annotations


class Pacer:
    """One task every `period` seconds, each due a period after the last one was due. A
    task that overruns its period starts the next one at once, and the phase moves with it."""

    __slots__ = ("due", "period")

    def __init__(self, period: float, now: float) -> None:
        self.period = period
        self.due = now  # when the current task was due

    def restart(self, now: float) -> None:
        """The current task counts as due `now`: the phase moves here."""
        self.due = now

    def wait(self, now: float) -> float:
        """Seconds from `now` (a task's end) to the next task."""
        self.due = max(self.due + self.period, now)
        return self.due - now
