"""`make loadtest`: rehearse sale day against the real service on a real Redis, then check
that nothing broke.

    python -m loadtests.run                       # 150 users, 2 minutes, the sale-day shape
    python -m loadtests.run --duration 10 --users 20
    python -m loadtests.run --host http://127.0.0.1:8000 --store redis://127.0.0.1:6380/0

Starts its own redis-server (free port, AOF every second, a temporary folder) and
`promo serve loadtests/rules --workers 2 --rehearse <T0 minus a lead>` on loopback, runs
locust headless, stops everything by pid (also on Ctrl-C or a failure), checks the
invariants (loadtests/invariants.py) and prints the summary. The report folder,
reports/loadtest-DATE/, holds locust's HTML and CSV, the summary and every log.
Exit status: 0 all good, 1 a violation or a failure, 2 bad options, 130 interrupted.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import NoReturn

from loadtests.config import SCENARIOS
from loadtests.harness import Options, execute
from loadtests.processes import ProcessError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line an operator can act on, not a usage dump.
        self.exit(2, f"loadtests.run: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m loadtests.run",
        description="Rehearse sale day against promo-engine and check that nothing broke: "
        "stock, limits and budgets never exceeded, every acknowledged claim logged once, "
        "nothing logged that no client asked for, no 5xx.",
        epilog="Scenarios: sale_day (every user class, a ramp and a spike at the flash drop's "
        "T0), mixed (every user class, steady: for throughput), browse, flash, draw, "
        "checkout, abuse (one class, steady). A target with API keys: put the storefront "
        "key in LOADTEST_API_KEY. Exit status: 0 all good, 1 a violation or a failure, "
        "2 bad options, 130 interrupted.",
    )
    p.add_argument("--users", type=int, default=150, help="peak concurrent users (default 150)")
    p.add_argument("--duration", type=float, default=120.0,
                   help="seconds of load (default 120)")  # fmt: skip
    p.add_argument("--scenario", default="sale_day", choices=SCENARIOS, metavar="NAME",
                   help="one of: " + ", ".join(SCENARIOS) + " (default sale_day)")  # fmt: skip
    p.add_argument("--host", help="load an already running service at this URL instead of "
                   "starting Redis and promo serve (it must serve loadtests/rules)")  # fmt: skip
    p.add_argument("--store", help="with --host: its Redis URL, to check the invariants "
                   "(without it only the clients' records are checked)")  # fmt: skip
    p.add_argument("--t0-after", type=float, metavar="SECONDS",
                   help="seconds into the run at which the flash drop opens (default: 35%% "
                   "of the run for sale_day, 3 s for the steady scenarios)")  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="promo serve workers (default 2)")
    p.add_argument("--processes", type=int, default=1,
                   help="locust processes (default 1)")  # fmt: skip
    p.add_argument("--pace", type=float, default=0.0, metavar="TASKS_PER_S",
                   help="tasks per second per user instead of think times")  # fmt: skip
    p.add_argument("--report-dir", type=Path, help="default: reports/loadtest-DATE")
    p.add_argument("--profile", type=float, default=0.0, metavar="SECONDS",
                   help="sample the service's workers with py-spy for SECONDS mid-run "
                   "(pip install py-spy)")  # fmt: skip
    return p


def options_from(argv: list[str] | None) -> Options:
    p = parser()
    a = p.parse_args(argv)
    if not 1 <= a.users <= 100_000:
        p.error(f"--users must be 1 to 100000, not {a.users}")
    if not 5 <= a.duration <= 86_400:
        p.error(f"--duration must be 5 to 86400 seconds, not {a.duration:g}")
    if a.host is not None and not a.host.startswith(("http://", "https://")):
        p.error(f"--host must be a URL such as http://127.0.0.1:8000, not {a.host!r}")
    if a.store is not None and a.host is None:
        p.error("--store goes with --host: without --host the run starts its own Redis")
    if a.store is not None and not a.store.startswith(("redis://", "rediss://")):
        p.error(f"--store must be a redis:// URL, not {a.store!r}")
    if a.workers < 1 or a.processes < 1 or a.pace < 0:
        p.error("--workers and --processes must be at least 1, --pace at least 0")
    if a.t0_after is not None and not 0 <= a.t0_after <= a.duration:
        p.error("--t0-after must be within the run")
    if a.profile and (a.host is not None or not 1 <= a.profile <= a.duration * 0.6):
        p.error("--profile needs the run's own service and at most 60% of --duration")
    if a.host is None and shutil.which("redis-server") is None:
        p.error("redis-server is not installed: sudo apt-get install -y redis-server")
    return Options(
        a.users, a.duration, a.scenario, a.host, a.store, a.t0_after, a.workers,
        a.processes, a.pace, a.report_dir, a.profile,
    )  # fmt: skip


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the children the same way Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    options = options_from(argv)
    # SIGINT too: a shell starts background jobs with it ignored, and `kill -INT` should
    # still stop the run and everything it started.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        outcome = execute(options)
    except KeyboardInterrupt:
        print("interrupted: every process started was stopped", file=sys.stderr)
        return 130
    except ProcessError as exc:
        print(f"loadtests.run: {exc}", file=sys.stderr)
        return 1
    print(outcome.summary)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
