"""Sale day on this 2-core machine (issue #5): the `mixed` scenario of loadtests/ (every
user class, steady) at increasing offered loads, each run a full `make loadtest` (its own
Redis with AOF, `promo serve --workers 2`, locust on the same machine, the invariant
check). Goal: at least 2,000 requests/s with p99 at most 50 ms and zero violations.

Writes docs/sale_day_latency.svg (latency and throughput against offered load) and the
`sale_day` section of docs/performance.md, with a py-spy profile of the service at the
first load that misses the p99 goal.

    .venv/bin/python benchmarks/bench_sale_day.py
    .venv/bin/python benchmarks/bench_sale_day.py --users 100,200,400 --duration 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import request_costs
from benchmarks.report import PERFORMANCE, stamp, write_section
from benchmarks.request_costs import Cost
from benchmarks.svg_chart import Chart, page
from loadtests.harness import Options, Outcome, execute
from loadtests.probe import percentile_ms
from loadtests.profile import Hotspots

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "docs" / "sale_day_latency.svg"
GOAL_RPS, GOAL_P99 = 2000.0, 50.0
STOP_P99 = 2000.0  # past this p99 a heavier load teaches nothing more
_COLUMNS = (
    "users", "offered req/s", "achieved req/s", "p50 ms", "p95 ms", "p99 ms",
    "probe p50 ms", "probe p99 ms", "failures",
    "violations", "service CPU ms/req", "Redis CPU ms/req", "locust CPU ms/req",
    "others (cores)", "busy (cores)",
)  # fmt: skip
_HEAD = "| " + " | ".join(_COLUMNS) + " |\n" + "|---" * len(_COLUMNS) + "|"


@dataclass
class Run:
    users: int
    offered: float  # requests/s the users would send at their pace, were they answered
    achieved: float
    p50: float
    p95: float
    p99: float
    failures: int
    violations: int
    service_ms: float  # CPU per request, service workers
    redis_ms: float
    locust_ms: float
    others: float  # cores other processes of the machine took meanwhile
    busy: float  # cores the whole machine kept busy meanwhile (of os.cpu_count())
    probe_p50: float = 0.0  # ms, a plain client's evaluates meanwhile (loadtests/probe.py)
    probe_p99: float = 0.0
    kinds: frozenset[str] = frozenset()  # the kinds of violations seen
    problems: frozenset[str] = frozenset()  # problem codes of the 5xx answers (locust's CSV)

    @property
    def cpu_ms(self) -> float:
        """CPU per request of the service, Redis and locust together."""
        return self.service_ms + self.redis_ms + self.locust_ms

    @property
    def meets(self) -> bool:
        """Locust's p99 within the goal, and no violation."""
        return self.p99 <= GOAL_P99 and self.violations == 0

    @property
    def service_meets(self) -> bool:
        """The plain client's p99 within the goal, and no violation: the service's own."""
        return 0 < self.probe_p99 <= GOAL_P99 and self.violations == 0


def measure(users: int, args: argparse.Namespace, out: Path, profile: float = 0.0) -> Outcome:
    options = Options(
        users=users, duration=args.duration, scenario="mixed", pace=args.pace,
        report_dir=out / f"users-{users}{'-profile' if profile else ''}", profile=profile,
    )  # fmt: skip
    return execute(options, say=False)


def row(users: int, outcome: Outcome, per_task: float, pace: float) -> Run:
    total = next(e for e in outcome.endpoints if e.name == "all")
    per = {k: 1000 * v / max(total.requests, 1) for k, v in outcome.cpu.items()}
    return Run(
        users, users * pace * per_task, total.rps, total.p50, total.p95, total.p99,
        total.failures, len(outcome.report.violations), per.get("promo serve", 0.0),
        per.get("redis-server", 0.0), per.get("locust", 0.0),
        outcome.others / max(outcome.wall, 1e-9),
        (sum(outcome.cpu.values()) + outcome.others) / max(outcome.wall, 1e-9),
        percentile_ms(outcome.probe, 50), percentile_ms(outcome.probe, 99),
        frozenset(v.kind for v in outcome.report.violations),
        _server_problems(outcome.report_dir),
    )  # fmt: skip


def chart(runs: list[Run]) -> str:
    latency = Chart("Latency against offered load", "offered load (requests/s)", "ms", log_y=True)
    latency.add("p50", [(r.offered, max(r.p50, 1)) for r in runs], "#1f77b4")
    latency.add("p95", [(r.offered, max(r.p95, 1)) for r in runs], "#ff7f0e")
    latency.add("p99", [(r.offered, max(r.p99, 1)) for r in runs], "#d62728")
    latency.add("probe p99", [(r.offered, max(r.probe_p99, 1)) for r in runs], "#9467bd")
    latency.hline(GOAL_P99, "goal: p99 50 ms")
    latency.vline(GOAL_RPS, "goal: 2,000/s")
    rate = Chart("Throughput against offered load", "offered load (requests/s)", "requests/s")
    rate.add("achieved", [(r.offered, r.achieved) for r in runs], "#2ca02c")
    rate.add("offered", [(r.offered, r.offered) for r in runs], "#999999", dashed=True)
    rate.hline(GOAL_RPS, "goal: 2,000/s")
    return page([latency, rate], "promo-engine, mixed sale-day scenario, 2 workers + Redis + "
                "locust on one 2-core machine")  # fmt: skip


def section(
    runs: list[Run], args: argparse.Namespace, costs: list[Cost], spots: Hotspots | None, at: int
) -> str:
    best = max((r for r in runs if r.meets), key=lambda r: r.achieved, default=None)
    served = max((r for r in runs if r.service_meets), key=lambda r: r.achieved, default=None)
    reached = served is not None and served.achieved >= GOAL_RPS
    table = "\n".join(
        f"| {r.users:,} | {r.offered:,.0f} | {r.achieved:,.0f} | {r.p50:,.0f} | {r.p95:,.0f} | "
        f"{r.p99:,.0f} | {r.probe_p50:.1f} | {r.probe_p99:.1f} | {r.failures:,} | "
        f"{r.violations} | {r.service_ms:.2f} | "
        f"{r.redis_ms:.2f} | {r.locust_ms:.2f} | {r.others:.2f} | {r.busy:.2f} |"
        for r in runs
    )
    verdict = (
        (
            f"The highest load at which the service answered the plain client with p99 ≤ "
            f"{GOAL_P99:.0f} ms, with zero violations, was **{served.achieved:,.0f} "
            f"requests/s** ({served.users:,} users, probe p99 {served.probe_p99:.1f} ms): "
            if served is not None
            else f"No load kept the plain client's p99 ≤ {GOAL_P99:.0f} ms with zero violations: "
        )
        + (
            "the goal of 2,000 requests/s is reached."
            if reached
            else "the goal of 2,000 requests/s is **not** reached on this machine."
        )
        + (
            f" Locust's own p99 stayed within {GOAL_P99:.0f} ms up to "
            f"{best.achieved:,.0f} requests/s ({best.users:,} users)."
            if best is not None
            else f" Locust's own p99 was over {GOAL_P99:.0f} ms at every load."
        )
    )
    light = runs[0]
    # Fixed costs spread over more requests under load: the cheapest run bounds the best case.
    lean = min(runs, key=lambda r: r.cpu_ms)
    ceiling = 1000 * (os.cpu_count() or 2) / lean.cpu_ms
    cost_rows = "\n".join(
        f"| {c.kind} | {c.service_ms:.2f} | {c.redis_ms:.2f} | {c.wall_ms:.2f} |" for c in costs
    )
    method = (
        f"{stamp()} `benchmarks/bench_sale_day.py`: for each user count, one full `make "
        "loadtest` run of the `mixed` scenario (Browser 50%, FlashDropper 20%, Checkout "
        "15%, LuckyDrawer 8%, Abuser 7% of users; `loadtests/`), "
        f"{args.duration:.0f} s steady after a 5 s ramp, each user running {args.pace:g} "
        "task/s (`--pace`), against `promo serve --workers 2` on its own Redis (AOF, fsync "
        "every second), with locust (one process, FastHttpUser) on the same two cores. "
        "Figures are locust's, after its statistics reset once every user runs, except the "
        "probe's: meanwhile a plain client (`loadtests/probe.py`, 10 threads with a keep-alive "
        "connection each, one evaluate a second each, for up to 10 s mid-run) times its "
        "requests. Locust's own times include its process's queueing (one gevent process "
        "drives every user), so the goal is judged on the probe's p99. Offered load "
        f"is users × pace × {light.offered / max(light.users * args.pace, 1e-9):.2f} requests "
        "per task (the mix's mean, measured at the lightest load). CPU per request is what "
        "each process tree used during the load divided by the requests answered; "
        '"others" is how many of the 2 cores the machine\'s other processes took meanwhile. '
        "Goal: at least 2,000 requests/s with p99 ≤ 50 ms and zero violations."
    )
    cores = os.cpu_count() or 2
    shared = max(r.others for r in runs)
    contention = (
        f"The machine is shared: other processes took up to {shared:.2f} of its {cores} cores "
        "during these runs, which slows every process measured here."
        if shared >= 0.2
        else f"Other processes took at most {shared:.2f} of the {cores} cores meanwhile."
    )
    top = max(runs, key=lambda r: r.achieved)
    first_miss = next((r for r in runs if not r.meets), None)
    limit = (
        f" Locust's p99 first passed {GOAL_P99:.0f} ms at {first_miss.users:,} users "
        f"({first_miss.achieved:,.0f} requests/s), with {first_miss.busy:.2f} of the "
        f"{cores} cores busy on average"
        + (
            ": CPU on average was not what limited it there. The latency grew with the "
            "number of users before the cores filled, so something queued that these "
            "averages do not show (the one locust process driving every user, a worker's "
            "event loop in bursts, the flash drop's spike). The probe's columns are the "
            "control: the same service, timed by a plain client during the same runs."
            if first_miss.busy < 0.8 * cores
            else ": the cores were full."
        )
        if first_miss is not None
        else ""
    )
    why = (
        f"**Why.** A request of the mix cost at least {lean.cpu_ms:.2f} ms of CPU in all "
        f"(at {lean.users:,} users, where fixed costs were spread thinnest): "
        f"{lean.service_ms:.2f} in the service's workers, {lean.redis_ms:.2f} in Redis and "
        f"{lean.locust_ms:.2f} in locust, so these three alone cap the machine near "
        f"{ceiling:,.0f} requests/s, the load generator taking its share of the same cores. "
        f"The most requests/s seen, {top.achieved:,.0f} at {top.users:,} users, kept "
        f"{top.busy:.2f} of the {cores} cores busy.{limit}" + _why_503(runs)
    )
    body = f"""## Sale day: the mixed scenario on one 2-core machine

{_para(method)}

{_para(verdict + " " + contention)}

![Latency and throughput against offered load](sale_day_latency.svg)

{_HEAD}
{table}

{_para(why)}

One client, one request at a time (`benchmarks/request_costs.py`), CPU per request:

| request | service CPU ms | Redis CPU ms | round trip ms |
|---|---|---|---|
{cost_rows}
"""
    if spots is not None:
        groups = "\n".join(f"| {name} | {share:.1%} |" for name, share in spots.by_group)
        inside = "\n".join(f"| `{name}` | {share:.1%} |" for name, share in spots.inclusive[:12])
        body += f"""
### Where the service's time goes (py-spy, {at:,} users)

{spots.samples:,} samples of both workers during a run at {at:,} users, the load that
gave the most requests/s (`python -m loadtests.run --scenario mixed --profile SECONDS`),
by the innermost frame:

| part | share of samples |
|---|---|
{groups}

Time inside the project's functions, callees included (evaluate's preview of claimable
offers runs in tasks of its own, so it is not under `Engine.evaluate`):

| function | share of samples |
|---|---|
{inside}
"""
    return body


def _para(text: str) -> str:
    return textwrap.fill(text, width=90, break_on_hyphens=False)


def _server_problems(report_dir: Path) -> frozenset[str]:
    """The problem codes of the 5xx answers locust saw (its failures CSV keeps the body)."""
    path = report_dir / "locust_failures.csv"
    text = path.read_text(errors="replace") if path.exists() else ""
    return frozenset(
        m.group(2) for m in re.finditer(r"HTTP (5\d\d):[^\n]*?problem:([a-z_]+)", text)
    )


def _why_503(runs: list[Run]) -> str:
    failing = [r for r in runs if r.violations]
    if not failing or any(
        r.kinds != {"server_error"} or r.problems != {"store_unavailable"} for r in failing
    ):
        return ""
    worst = failing[-1]
    redis_cores = worst.redis_ms * worst.achieved / 1000
    return (
        " Every violation seen was a 503 `store_unavailable`. A worker whose event loop"
        " is saturated reads Redis's answer after the 250 ms store timeout and fails the"
        " request closed (docs/api.md), while Redis itself used"
        f" {redis_cores:.2f} of a core at {worst.users:,} users."
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", default="25,50,100,200,300,450,650,900,1200,1700,2200",
                   help="comma-separated user counts, increasing")  # fmt: skip
    p.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    p.add_argument("--pace", type=float, default=1.0, help="tasks per second per user")
    p.add_argument("--profile", type=float, default=12.0, help="py-spy seconds (0: none)")
    args = p.parse_args(argv)
    try:
        counts = [int(u) for u in args.users.split(",")]
    except ValueError:
        p.error(f"--users must be comma-separated integers, not {args.users!r}")
    out = ROOT / "reports" / f"bench-sale-day-{dt.datetime.now():%Y%m%d-%H%M%S}"
    runs: list[Run] = []
    per_task = 0.0
    for users in counts:
        outcome = measure(users, args, out)
        if not per_task:
            total = next(e for e in outcome.endpoints if e.name == "all")
            per_task = total.rps / (users * args.pace)
        runs.append(row(users, outcome, per_task, args.pace))
        print(runs[-1], flush=True)
        if runs[-1].p99 > STOP_P99:
            break
    busiest = max(runs, key=lambda r: r.achieved).users
    spots = measure(busiest, args, out, args.profile).hotspots if args.profile else None
    costs = request_costs.measure()
    PLOT.write_text(chart(runs), encoding="utf-8")
    body = section(runs, args, costs, spots, busiest)
    write_section("sale_day", body)
    print(body)
    print(f"written: {PLOT.relative_to(ROOT)}, {PERFORMANCE.relative_to(ROOT)}; runs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
