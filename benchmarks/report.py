"""Rewrite one section of docs/performance.md, between markers, keeping the others.

Each benchmark owns a section `<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`; a run
replaces only its own, so the file always holds the latest figure of every benchmark,
each with the date and machine it was measured on.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"

_HEAD = """# Performance

Every table below is written by a script in `benchmarks/` (`make bench` runs them all);
each section says when and how it was measured. The machine is a small shared VM, so
absolute figures move between runs: compare the ratios measured within one run. Each
section's *yardstick* is the time of one step of a plain CPython loop in that run
(`benchmarks/report.py`): absolute figures from runs with different yardsticks compare
only after scaling by it (twice the yardstick, about twice the time).
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, CPython {platform.python_version()}, {platform.system()}"


def stamp() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {now} on {machine()}; yardstick {yardstick_ns():.0f} ns."


def yardstick_ns() -> float:
    """Nanoseconds per step of a plain CPython loop (an add, a bitwise and, a jump), best
    of 5: how fast this machine runs Python at the time of the run. Absolute figures
    taken on different machines (or on one VM at different times) compare only after
    scaling by it; ratios measured within one run need no scaling."""
    steps = 300_000

    def loop() -> int:
        total = 0
        for i in range(steps):
            total += i & 7
        return total

    return min(timed(loop, 5)) / steps * 1e9


def write_section(name: str, body: str) -> None:
    """Put `body` (markdown) in section `name` of docs/performance.md."""
    text = PERFORMANCE.read_text(encoding="utf-8") if PERFORMANCE.exists() else _HEAD
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    PERFORMANCE.write_text(text, encoding="utf-8")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall seconds of `repeat` calls of `fn`."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
