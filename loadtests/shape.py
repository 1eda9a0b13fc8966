"""Load shapes: the sale day (a ramp, then everyone at once for the drop at T0) and a
steady load for measuring throughput.

Both end by themselves after the run's duration (`tick` returns None), so a headless run
is bounded whatever `--run-time` says.
"""

from __future__ import annotations

import time

from locust import LoadTestShape

from loadtests import client

_SPIKE_LEAD = 10.0  # the crowd arrives in the ten seconds before the drop
_SPIKE_SHARE = 0.25  # and stays for a quarter of the run


def _run_time(shape: LoadTestShape) -> float:
    # LoadTestShape.get_run_time() is this, without annotations.
    return time.perf_counter() - shape.start_time


class SaleDayShape(LoadTestShape):
    """From 10% of the peak users, ramp to half of it; ten seconds before T0 spike to the
    peak (the drop's crowd, spawned within five seconds); a quarter of the run later,
    settle at 60% until the end."""

    def tick(self) -> tuple[int, float] | None:
        run = client.RUN
        elapsed = _run_time(self)
        if elapsed >= run.duration:
            return None
        peak = max(run.peak_users, 1)
        spike = client.T0_WALL - (time.time() - elapsed) - _SPIKE_LEAD  # in run time
        if elapsed < spike:
            share = 0.1 + 0.4 * elapsed / spike if spike > 0 else 0.5
            return max(1, round(peak * share)), max(peak / 10, 1.0)
        if elapsed < spike + _SPIKE_LEAD + _SPIKE_SHARE * run.duration:
            return peak, max(peak / 5, 1.0)
        return max(1, round(peak * 0.6)), max(peak / 5, 1.0)


class SteadyShape(LoadTestShape):
    """All users within five seconds, then a constant load until the end."""

    def tick(self) -> tuple[int, float] | None:
        run = client.RUN
        if _run_time(self) >= run.duration:
            return None
        users = max(run.peak_users, 1)
        return users, max(users / 5, 1.0)
