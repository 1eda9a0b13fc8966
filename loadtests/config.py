"""The sale-day timeline and what `loadtests.run` tells the locust processes.

The rules in loadtests/rules/ open the flash drop at T0, 2026-11-11 20:00 in Shanghai. A
load test serves them with `promo serve --rehearse` at T0 minus a lead, so that the
engine clock reaches T0 during the run; the locust processes learn from LOADTEST_T0_WALL
when that is on their own (wall) clock, and the load shape spikes there.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

T0 = dt.datetime.fromisoformat("2026-11-11T20:00:00+08:00")
RULES_DIR = Path(__file__).resolve().parent / "rules"

# The campaigns and rewards of loadtests/rules/ that the users claim.
FLASH, FLASH_TOP, FLASH_FALLBACK = "lt_flash", "f100", "f30"
WHEEL = "lt_wheel"
CHECKOUT, CHECKOUT_PLAIN, CHECKOUT_ACME = "lt_checkout", "k20", "k15"

SCENARIOS = ("sale_day", "mixed", "browse", "flash", "draw", "checkout", "abuse")

_PREFIX = "LOADTEST_"


def rehearse_instant(lead: float) -> str:
    """The `--rehearse` instant that puts T0 `lead` seconds after the service starts."""
    return (T0 - dt.timedelta(seconds=round(lead))).isoformat()


@dataclass(frozen=True)
class RunEnv:
    """The settings of one locust run, passed to every locust process as environment
    variables (forked processes inherit them; CLI options would not reach user classes)."""

    scenario: str = "sale_day"
    duration: float = 120.0
    peak_users: int = 150
    t0_wall: float = 0.0  # wall-clock time (time.time()) at which the engine reaches T0
    records: Path | None = None  # where each locust process writes its claims file
    pace: float = 0.0  # tasks per second per user in the steady scenarios (0: think times)
    api_key: str = ""

    def to_env(self) -> dict[str, str]:
        return {
            _PREFIX + "SCENARIO": self.scenario,
            _PREFIX + "DURATION": repr(self.duration),
            _PREFIX + "PEAK_USERS": str(self.peak_users),
            _PREFIX + "T0_WALL": repr(self.t0_wall),
            _PREFIX + "RECORDS": str(self.records or ""),
            _PREFIX + "PACE": repr(self.pace),
            _PREFIX + "API_KEY": self.api_key,
        }

    @classmethod
    def from_env(cls) -> RunEnv:
        get = os.environ.get
        records = get(_PREFIX + "RECORDS", "")
        return cls(
            scenario=get(_PREFIX + "SCENARIO", "sale_day"),
            duration=float(get(_PREFIX + "DURATION", "120")),
            peak_users=int(get(_PREFIX + "PEAK_USERS", "150")),
            t0_wall=float(get(_PREFIX + "T0_WALL", "0")),
            records=Path(records) if records else None,
            pace=float(get(_PREFIX + "PACE", "0")),
            api_key=get(_PREFIX + "API_KEY", ""),
        )
