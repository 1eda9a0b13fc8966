"""One load test end to end, as a function: start Redis and `promo serve` (or use a
running service), run locust, stop everything by pid, check the invariants, and write the
report folder. `loadtests.run` is its command line; benchmarks/bench_sale_day.py calls
`execute` at increasing loads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadtests.config import RULES_DIR, RunEnv, rehearse_instant
from loadtests.invariants import InvariantReport, check, check_records
from loadtests.probe import percentile_ms, probe
from loadtests.processes import (
    Child,
    ProcessError,
    free_port,
    machine_busy,
    start_redis,
    start_service,
    tree_cpu,
    wait_ready,
)
from loadtests.profile import Hotspots, describe, hotspots, record, workers
from loadtests.report_page import write_index
from loadtests.summary import Endpoint, as_json, read_stats, render

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
# How long `promo serve --workers 2` may take to answer /readyz on a busy 2-core machine:
# the rehearsal clock starts with the service, so T0 is placed this far after launch
# plus where the run wants it; a quicker start waits for it.
STARTUP_ALLOWANCE = 10.0
READY_TIMEOUT = 120.0
_SPIKE_AT = {"sale_day": 0.35}  # share of the run before the flash drop opens
_STEADY_T0 = 3.0  # seconds into a steady run: the drop opens while users arrive
_RAMP = 5.0  # seconds the steady shape takes to start every user (shape.py)


@dataclass
class Options:
    users: int = 150
    duration: float = 120.0
    scenario: str = "sale_day"
    host: str | None = None
    store: str | None = None
    t0_after: float | None = None
    workers: int = 2
    processes: int = 1
    pace: float = 0.0
    report_dir: Path | None = None
    profile: float = 0.0  # seconds of py-spy on the service's workers, mid-run (0: none)
    probe_threads: int = 10  # paced evaluates a second from a plain client, mid-run (0: none)

    @property
    def spike_at(self) -> float:
        if self.t0_after is not None:
            return self.t0_after
        share = _SPIKE_AT.get(self.scenario)
        return share * self.duration if share is not None else _STEADY_T0


@dataclass
class Outcome:
    report_dir: Path
    endpoints: list[Endpoint]
    report: InvariantReport
    summary: str
    startup: float = 0.0  # seconds the service took to be ready
    hotspots: Hotspots | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds under load, per tree
    others: float = 0.0  # CPU seconds other processes of the machine took meanwhile
    wall: float = 0.0  # seconds the CPU figures cover
    probe: list[float] = field(default_factory=list)  # a plain client's latencies (probe.py)

    @property
    def ok(self) -> bool:
        return self.report.ok and bool(self.endpoints)


@dataclass
class Target:
    base: str  # the service's URL
    store: str  # its Redis URL; "" when not known (--host without --store)
    service: Child | None  # the service this run started
    t0_wall: float  # when the engine clock reaches T0, on this machine's clock
    startup: float = 0.0


def execute(options: Options, say: bool = True) -> Outcome:
    """Run one load test end to end; everything started is stopped before returning."""
    report_dir = options.report_dir or _new_report_dir()
    report_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="promo-loadtest-"))
    children: list[Child] = []
    try:
        target = _start_target(options, report_dir, workdir, children, say)
        profiled, usage, probed = _load(options, target, report_dir, children)
        if target.service is not None:
            target.service.stop()  # requests in flight finish before the store is read
        records = report_dir / "records"
        report = check(target.store, records=records) if target.store else check_records(records)
    finally:
        for child in reversed(children):
            child.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    endpoints = read_stats(report_dir / "locust")
    title = (
        f"promo-engine load test: scenario {options.scenario}, {options.users} users, "
        f"{options.duration:.0f} s, target {target.base}\nreport: {report_dir / 'index.html'}"
    )
    summary = render(title, endpoints, report)
    requests = next((e.requests for e in endpoints if e.name == "all"), 0)
    if requests:
        per = ", ".join(f"{name} {1000 * sec / requests:.2f}" for name, sec in usage.cpu.items())
        summary += (
            f"\nCPU per request during the load (ms): {per}; other processes of the machine "
            f"took {usage.others / max(usage.wall, 1e-9):.2f} of its {os.cpu_count()} cores"
        )
    if probed:
        summary += (
            f"\nA plain client meanwhile ({options.probe_threads} threads, one evaluate a second "
            f"each, loadtests/probe.py): {len(probed)} evaluates, p50 "
            f"{percentile_ms(probed, 50):.1f} ms, p99 {percentile_ms(probed, 99):.1f} ms"
        )
    if profiled is not None:
        summary += "\n\n" + describe(profiled)
    (report_dir / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    body = as_json(_plain(options), endpoints, report)
    body["startup_seconds"] = round(target.startup, 2)
    body["cpu_seconds"] = {k: round(v, 2) for k, v in usage.cpu.items()}
    body["other_cpu_seconds"], body["cpu_wall_seconds"] = round(usage.others, 2), usage.wall
    body["probe"] = {
        "threads": options.probe_threads, "requests": len(probed),
        "p50_ms": round(percentile_ms(probed, 50), 2),
        "p99_ms": round(percentile_ms(probed, 99), 2),
    }  # fmt: skip
    (report_dir / "summary.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    write_index(report_dir, summary, report.ok and bool(endpoints))
    return Outcome(
        report_dir, endpoints, report, summary, target.startup, profiled, usage.cpu,
        usage.others, usage.wall, probed,
    )  # fmt: skip


def _start_target(
    options: Options, report_dir: Path, workdir: Path, children: list[Child], say: bool
) -> Target:
    """Redis and `promo serve` (added to `children` as they start), or the given host."""
    if options.host is not None:
        wait_ready(options.host.rstrip("/"), None, 10.0)
        t0_wall = time.time() + options.spike_at
        return Target(options.host.rstrip("/"), options.store or "", None, t0_wall)
    redis, store = start_redis(workdir, report_dir / "redis.log")
    children.append(redis)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    lead = STARTUP_ALLOWANCE + options.spike_at
    rehearse = rehearse_instant(lead)
    if say:
        print(f"redis-server {store} (pid {redis.pid}); promo serve {base} "
              f"(rehearse {rehearse}, {options.workers} workers)", flush=True)  # fmt: skip
    launched = time.time()
    service = start_service(
        RULES_DIR, store, port, options.workers, rehearse, report_dir / "serve.log"
    )
    children.append(service)
    startup = wait_ready(base, service, READY_TIMEOUT)
    target = Target(base, store, service, launched + lead, startup)
    # A service quicker than the allowance: start the load so T0 lands where planned.
    time.sleep(max(0.0, target.t0_wall - options.spike_at - time.time()))
    if say:
        print(f"locust: scenario {options.scenario}, {options.users} users, "
              f"{options.duration:.0f} s; the flash drop opens "
              f"{max(target.t0_wall - time.time(), 0):.0f} s in", flush=True)  # fmt: skip
    return target


@dataclass
class Usage:
    cpu: dict[str, float]  # CPU seconds per process tree (redis-server, promo serve, locust)
    others: float  # CPU seconds the rest of the machine used meanwhile
    wall: float


def _load(
    options: Options, target: Target, report_dir: Path, children: list[Child]
) -> tuple[Hotspots | None, Usage, list[float]]:
    """Run locust to its end; py-spy's hotspots (with --profile), the CPU seconds each
    process tree used while the statistics were counting, and the probe's latencies."""
    locust = _start_locust(options, target, report_dir)
    started = time.monotonic()
    if options.scenario != "sale_day":
        time.sleep(_RAMP + 0.5)  # locust resets its statistics once every user runs
    running = [c for c in children if c.running()] + [locust]
    before = {child.name: tree_cpu(child.pid) for child in running}
    busy, wall = machine_busy(), time.monotonic()
    children.append(locust)
    # Into the steady part of the run (or the spike): the probe, and py-spy's samples.
    middle = max(options.spike_at, 0.3 * options.duration)
    probed: list[float] = []
    prober = None
    if options.probe_threads > 0:
        seconds = max(1.0, min(10.0, 0.4 * options.duration))
        at = started + middle - seconds / 2

        def run_probe() -> None:
            time.sleep(max(0.0, at - time.monotonic()))
            key = os.environ.get("LOADTEST_API_KEY", "")
            probed.extend(probe(target.base, options.probe_threads, seconds, key))

        prober = threading.Thread(target=run_probe, name="probe", daemon=True)
        prober.start()
    profiled = None
    if options.profile > 0 and target.service is not None:
        time.sleep(max(0.0, started + middle - options.profile / 2 - time.monotonic()))
        files = record(workers(target.service.pid), options.profile, report_dir / "profile")
        profiled = hotspots(files)
    after = {"locust": _wait_locust(locust, options, report_dir)}
    after.update((c.name, tree_cpu(c.pid)) for c in running if c is not locust)
    used = {name: after[name] - before[name] for name in before}
    others = machine_busy() - busy - sum(used.values())
    if prober is not None:
        prober.join()
    return profiled, Usage(used, max(others, 0.0), time.monotonic() - wall), sorted(probed)


def _start_locust(options: Options, target: Target, report_dir: Path) -> Child:
    env = RunEnv(
        scenario=options.scenario, duration=options.duration, peak_users=options.users,
        t0_wall=target.t0_wall, records=report_dir / "records", pace=options.pace,
        api_key=os.environ.get("LOADTEST_API_KEY", ""),
    )  # fmt: skip
    # Users, spawn rate and duration reach the shapes through RunEnv, not locust's options.
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", target.base, "--csv", str(report_dir / "locust"),
        "--html", str(report_dir / "report.html"), "--only-summary",
        "--stop-timeout", "3", "--loglevel", "WARNING",
    ]  # fmt: skip
    if options.scenario != "sale_day":
        cmd.append("--reset-stats")  # steady figures: leave the arrival of the users out
    if options.processes > 1:
        cmd += ["--processes", str(options.processes)]
    return Child("locust", cmd, report_dir / "locust.log", {**os.environ, **env.to_env()})


def _wait_locust(locust: Child, options: Options, report_dir: Path) -> float:
    """Wait for locust to end; the CPU seconds it used (read every second while it runs:
    once it has exited its processes can no longer be read)."""
    deadline, used = time.monotonic() + options.duration + 60, 0.0
    try:
        while locust.running():
            if time.monotonic() > deadline:
                raise ProcessError(f"locust did not end {options.duration + 60:.0f} s in")
            used = tree_cpu(locust.pid)
            locust.wait(1.0)
    finally:
        locust.stop(10)
    if not (report_dir / "locust_stats.csv").exists():
        raise ProcessError(f"locust wrote no statistics:\n{locust.tail()}")
    return used


def _plain(options: Options) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}


def _new_report_dir() -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = ROOT / "reports" / f"loadtest-{stamp}", 1
    while path.exists():
        n += 1
        path = ROOT / "reports" / f"loadtest-{stamp}-{n}"
    return path
