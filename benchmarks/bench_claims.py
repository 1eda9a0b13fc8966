"""Claims per second through the engine on Redis, from one process, next to a bare EVALSHA
loop of the same script in the same run (issue #3; goal: the engine at least 90% of it).

    .venv/bin/python benchmarks/bench_claims.py [--duration 5] [--concurrency 64] [--repeats 3]

Starts its own redis-server on a free port (tests/redis_server.py, no persistence) and,
for each placement (this process and Redis on separate CPUs, then on shared CPUs) and
each event loop (uvloop, then asyncio), runs N concurrent tasks for `duration`
seconds after a 1 s warm-up, each awaiting one call at a time:

  engine      `Engine.claim(request)` of benchmarks/rules/claim_bench.promo (the HTTP
              benchmark's campaign: `when`, `deny when` with a list, a user limit, a
              device limit per day, stock, budget, one coupon), a new user, device and
              Idempotency-Key each call, as the HTTP route passes it: validation, rule
              checks, the step, one EVALSHA, the result.
  bare        claim.lua with KEYS and ARGV that the engine built once, only the user,
              device, key, claim id and code replaced per call (plain text replacement),
              sent over the store's own connection (`RedisStore`'s lane): what the
              transport and the server cost, without the engine. The goal's reference.
  bare-redispy  the same through redis-py's `Script` (EVALSHA), as
              ../shared/bench/results-redis.md measures it.

Variants run `repeats` times in rotating order. Reported per variant: claims/s (median
and every run), client CPU per claim, latency p50/p99 around the await, and the server's
own time per EVALSHA (INFO commandstats): when that time times the rate nears one core,
Redis is the bottleneck. The server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import median, stamp, write_section  # noqa: E402
from dsl.compiler import compile_text  # noqa: E402
from engine.claims import build_step, parse_claim  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.store.keys import claim_args  # noqa: E402
from engine.store.open import open_store  # noqa: E402
from engine.store.redis import RedisStore  # noqa: E402
from tests.redis_server import start_redis  # noqa: E402

RULES = ROOT / "benchmarks" / "rules" / "claim_bench.promo"
CAMPAIGN = "bench_claim"
CART = {"items": [{"sku": "KETTLE", "category": "kitchen", "price": "99.99", "qty": 1},
                  {"sku": "MUG", "category": "home", "price": "15.69", "qty": 2}]}  # fmt: skip
serial = itertools.count(1)  # across runs: every claim has its own user, key and code
Call = Callable[[int], Awaitable[None]]


def request(user: str) -> dict[str, Any]:
    """The body `POST /v1/claims` gets, with its Idempotency-Key as `key` (api/routes)."""
    return {"campaign": CAMPAIGN, "user": user, "device": "d" + user, "ip": "203.0.113.7",
            "context": {"channel": "app", "cart": CART}, "key": user}  # fmt: skip


def user_of(n: int) -> str:
    return f"u{n:010d}"  # fixed length: the bare loop replaces it in prepared text


@dataclass
class Run:
    variant: str
    rate: float  # claims per second
    cpu_us: float  # client CPU per claim
    p50_ms: float
    p99_ms: float
    server_us: float  # Redis's own time per EVALSHA
    steal: float  # share of CPU time the hypervisor took meanwhile
    load: float = 0.0  # the machine's load average (1 min) at the end of the run


@dataclass
class Counts:
    replies: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.replies[status] = self.replies.get(status, 0) + 1


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) jiffies of the whole machine, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


async def timed(store: RedisStore, variant: str, call: Call, n: int, seconds: float) -> Run:
    """N tasks calling `call` for `seconds` after a 1 s warm-up."""
    latencies: list[float] = []
    measuring, stop = False, asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            await call(next(serial))
            if measuring:
                latencies.append(time.perf_counter() - start)

    tasks = [asyncio.create_task(worker()) for _ in range(n)]
    await asyncio.sleep(1.0)
    await store._client.config_resetstat()
    steal0, total0 = cpu_ticks()
    measuring, started, cpu = True, time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    measuring, elapsed = False, time.perf_counter() - started
    cpu = time.process_time() - cpu
    steal1, total1 = cpu_ticks()
    stats = await store._client.info("commandstats")
    stop.set()
    await asyncio.gather(*tasks)
    latencies.sort()
    count = max(len(latencies), 1)
    return Run(
        variant, len(latencies) / elapsed, cpu / count * 1e6,
        statistics.median(latencies) * 1e3 if latencies else 0.0,
        latencies[int(len(latencies) * 0.99)] * 1e3 if latencies else 0.0,
        float(stats.get("cmdstat_evalsha", {}).get("usec_per_call", 0.0)),
        (steal1 - steal0) / max(total1 - total0, 1), os.getloadavg()[0],
    )  # fmt: skip


def bare_template(engine: Engine, store: RedisStore) -> tuple[str, str, str, str]:
    """KEYS and ARGV of one claim as the engine builds them, joined into one text, with
    the user, claim id and code that each bare call replaces."""
    user = user_of(0)
    parsed = parse_claim(engine.registry, request(user), engine.clock.now())
    step = build_step(engine.plans, parsed, None, engine.clock.now(), None)
    keys, argv = claim_args(store._keys, step, engine.clock.now())
    code = step.outcomes[0].coupons[0].code
    claim_id = str(step.log["claim_id"])
    return "\n".join([*keys, argv.decode()]), user, claim_id, code


def bare_calls(engine: Engine, store: RedisStore, counts: Counts) -> tuple[Call, Call]:
    text, user0, claim0, code0 = bare_template(engine, store)
    script = store._scripts["claim"]
    lane = store._lane
    assert lane is not None, "the store should talk to a single Redis over its lane"

    def prepared(n: int) -> tuple[list[str], list[bytes]]:
        user = user_of(n)
        filled = text.replace(user0, user).replace(claim0, f"{n:026d}")
        filled = filled.replace(code0, f"{code0[:3]}{n:016d}{code0[-1]}")
        *keys, argv = filled.split("\n")
        return keys, [argv.encode()]

    async def on_lane(n: int) -> None:
        keys, args = prepared(n)
        counts.add((await lane.evalsha(script, keys, args))[0])

    async def on_redispy(n: int) -> None:
        keys, args = prepared(n)
        counts.add((await script(keys=keys, args=args))[0])

    return on_lane, on_redispy


async def bench(url: str, concurrency: int, seconds: float, repeats: int) -> list[Run]:
    store = open_store(url, prefix="bench:", timeout=5.0)
    assert isinstance(store, RedisStore)
    engine = Engine(store, SystemClock())
    await engine.load(compile_text(RULES.read_text(), RULES.name)[0])
    await engine.start()
    engine_counts, bare_counts = Counts(), Counts()

    async def through_engine(n: int) -> None:
        result = await engine.claim(request(user_of(n)))
        engine_counts.add(str(result["status"]))

    on_lane, on_redispy = bare_calls(engine, store, bare_counts)
    variants = [("engine", through_engine), ("bare", on_lane), ("bare-redispy", on_redispy)]
    runs = []
    try:
        for rep in range(repeats):
            # Rotate the order, so that no variant always runs first (or last) on a busy box.
            shift = rep % len(variants)
            for name, call in variants[shift:] + variants[:shift]:
                runs.append(await timed(store, name, call, concurrency, seconds))
                print(_line(runs[-1]), flush=True)
    finally:
        await engine.close()
        await store.drop()
        await store.close()
    # Every call took the full write path: a claim that was refused would flatter a variant.
    assert list(engine_counts.replies) == ["issued"], engine_counts.replies
    assert list(bare_counts.replies) == ["issued"], bare_counts.replies
    return runs


def _line(run: Run) -> str:
    return (
        f"{run.variant:13} {run.rate:8,.0f} claims/s  client CPU {run.cpu_us:5.0f} us/claim  "
        f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  server {run.server_us:5.1f} us/call  "
        f"steal {run.steal:.0%}  load {os.getloadavg()[0]:.1f}"
    )


def section(results: dict[str, list[Run]], concurrency: int, seconds: float) -> str:
    tables = []
    verdicts = []
    for loop, runs in results.items():  # loop: the event loop and the placement
        by: dict[str, list[Run]] = {}
        for run in runs:
            by.setdefault(run.variant, []).append(run)
        rate = {name: median([r.rate for r in rs]) for name, rs in by.items()}
        ratio, ratio_py = rate["engine"] / rate["bare"], rate["engine"] / rate["bare-redispy"]
        goal = f" ({'meets' if ratio >= 0.9 else 'misses'} the goal)" if "separate" in loop else ""
        verdicts.append(
            f"{loop}: engine **{ratio:.0%}** of the bare loop on the same connection{goal}, "
            f"{ratio_py:.0%} of the bare loop through redis-py's Script"
        )
        rows = [_row(name, rs, rate[name]) for name, rs in by.items()]
        tables.append(f"**{loop}**\n\n{_HEADER}\n" + "\n".join(rows))
    body = "\n\n".join(tables)
    summary = ";\n".join(verdicts)
    return f"""## Claims: the engine on Redis against a bare EVALSHA loop

{stamp()} `benchmarks/bench_claims.py`: one process, {concurrency} asyncio tasks each awaiting
one call at a time, {seconds:.0f} s per run after a 1 s warm-up, variants in rotating order,
medians of the runs. `engine` is `Engine.claim(request)` of the HTTP benchmark's campaign
(benchmarks/rules/claim_bench.promo: rules, a list, user and device limits, stock, budget,
one coupon) for a new user with an idempotency key each call: validation, rule checks,
the step, one EVALSHA of claim.lua, the result. `bare` sends the same claim.lua with KEYS
and ARGV the engine built once (user, key, claim id and code replaced in the text per
call) over the store's own connection; `bare-redispy` does the same through redis-py's
`Script`, as `../shared/bench/results-redis.md` measured. Every call of every variant
issued a coupon (full write path). "server" is Redis's own time per EVALSHA (INFO
commandstats); after each run's rate, in brackets, the machine's load average (1 min) at
its end. Placements: with *separate* CPUs this process runs on the first CPU and Redis on
the others (sched_setaffinity), as when Redis has its own host; with *shared* CPUs both
run anywhere on the machine's cores, so that every microsecond of client CPU is taken from
Redis too, and the engine (which needs more client CPU than the bare loop) loses twice.
The goal is judged on separate CPUs; the ratio of medians moves with the machine's load.

{summary}.

{body}
"""


_HEADER = (
    "| variant | claims/s (median) | claims/s runs | client CPU us/claim | p50 ms | p99 ms "
    "| server us/EVALSHA |\n|---|---|---|---|---|---|---|"
)


def _row(name: str, runs: list[Run], rate: float) -> str:
    every = ", ".join(f"{r.rate:,.0f} ({r.load:.1f})" for r in runs)
    mid = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
    cpu = median([r.cpu_us for r in runs])
    server = median([r.server_us for r in runs])
    return (
        f"| {name} | {rate:,.0f} | {every} | {cpu:.0f} | {mid.p50_ms:.2f} | {mid.p99_ms:.2f} "
        f"| {server:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent tasks")
    parser.add_argument("--repeats", type=int, default=5, help="runs per variant")
    parser.add_argument("--loops", default="uvloop,asyncio", help="event loops to run on")
    parser.add_argument(
        "--placements", default="separate,shared",
        help="separate: this process on one CPU, Redis on the others; shared: both anywhere",
    )  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    opts = parser.parse_args()
    runners: dict[str, Callable[[Any], Any]] = {"asyncio": asyncio.run}
    try:
        import uvloop

        runners["uvloop"] = uvloop.run
    except ImportError:
        pass
    placements = opts.placements.split(",")
    if "separate" in placements and len(os.sched_getaffinity(0)) < 2:
        print("one CPU: the separate placement is left out", flush=True)
        placements.remove("separate")
    results: dict[str, list[Run]] = {}
    server = start_redis()
    assert server.proc is not None
    everywhere = os.sched_getaffinity(0)
    try:
        for placement in placements:
            for loop in opts.loops.split(","):
                if loop not in runners:
                    raise SystemExit(f"unknown or missing event loop {loop!r}")
                place(placement, server.proc.pid, everywhere)
                print(f"-- {loop}, {placement} CPUs", flush=True)
                coroutine = bench(server.url, opts.concurrency, opts.duration, opts.repeats)
                results[f"{loop}, {placement} CPUs"] = runners[loop](coroutine)
    finally:
        place("shared", server.proc.pid, everywhere)
        server.stop()
    body = section(results, opts.concurrency, opts.duration)
    if not opts.no_write:
        write_section("claims", body)
    print(body)
    return 0


def place(placement: str, server_pid: int, everywhere: set[int]) -> None:
    """`separate`: this process on the first CPU and Redis on the others, as when Redis
    has its own host and each side has its own cores; `shared`: both on every CPU."""
    if placement == "separate":
        first = min(everywhere)
        os.sched_setaffinity(0, {first})
        os.sched_setaffinity(server_pid, everywhere - {first})
    elif placement == "shared":
        os.sched_setaffinity(0, everywhere)
        os.sched_setaffinity(server_pid, everywhere)
    else:
        raise SystemExit(f"unknown placement {placement!r}: separate or shared")


if __name__ == "__main__":
    sys.exit(main())
