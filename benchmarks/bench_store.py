"""Claims per second of RedisStore.claim against a bare EVALSHA loop, in one run.

    .venv/bin/python benchmarks/bench_store.py [--duration 5] [--concurrency 64]

Starts its own redis-server on a free port (tests/redis_server.py), then, for each event
loop (asyncio, and uvloop when installed), runs N concurrent tasks for `duration` seconds
after a 1 s warm-up, each awaiting one call at a time:

  store   RedisStore.claim of a typical coupon claim: idempotency key, user, device and IP
          limits, stock, budget, one coupon; a fresh user, key and code each time, so every
          call takes the full write path. Building the ClaimStep is included.
  bare    the same claim.lua through redis-py's Script (EVALSHA) with KEYS and ARGV
          prepared once, only the user, key and code changed per call: the floor that
          redis-py and the server set, without the store's encoding and decoding.
  shared  ../shared/bench/redisbench/claim.lua, the measured script of results-redis.md,
          for comparison with that file.

Each variant runs `repeats` times in rotating order; prints every run (with the load
average, as the machine may be shared) and the medians. The server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.store import ClaimStep, Counter, NewCoupon, Outcome, Scope  # noqa: E402
from engine.store.keys import KeyLayout, claim_args  # noqa: E402
from engine.store.open import open_store  # noqa: E402
from engine.store.redis import RedisStore  # noqa: E402
from tests.redis_server import start_redis  # noqa: E402

SCOPE = Scope("bench-2026", "flash", "K3Q")
NOW = 1_800_000_000
BIG = 10**15
serial = itertools.count(1)  # across runs: every claim has its own user, key and code
SHARED_LUA = ROOT.parent / "shared" / "bench" / "redisbench" / "claim.lua"


def ids(n: int) -> tuple[str, ...]:
    """User, device, idempotency key and code of claim n: fixed lengths, so that the bare
    loop can put them into a prepared call by plain replacement."""
    return f"u{n:09d}", f"d{n:09d}", f"k{n:09d}", f"K3Q{n:016d}Z"


def claim_step(n: int) -> ClaimStep:
    """A coupon claim as engine/claims.py builds it, for user n."""
    user, device, key, code = ids(n)
    checks = (
        Counter(f"l:*:user:all:{user}", 1, 1, "user_limit"),
        Counter(f"l:*:device:day:2026-11-11:{device}", 3, 1, "device_limit", NOW + 86_400),
        Counter(f"l:*:ip:1m:29950000:10.{n % 250}.0.0", 10**9, 1, "ip_limit", NOW + 60),
        Counter("s:c30:all", BIG, 1, "out_of_stock"),
        Counter("b:*:all", BIG, 3000, "budget_exhausted"),
    )
    coupon = NewCoupon(code, "c30", "t0123456789abcdef", NOW, NOW + 604_800, 3000)
    result = f'{{"status":"issued","campaign":"flash","reward":"c30","code":"{code}"}}'
    log = {"reward": "c30", "codes": [code], "face_value": 3000}
    outcome = Outcome(None, 0, (), (), (coupon,), result, log)
    fields = {"claim_id": f"cl{n}", "user": user, "device": device, "ip": "10.0.0.1", "key": key}
    return ClaimStep(
        SCOPE, user, key, "c30|d|ip", None, checks, (outcome,), None, fields, NOW + 90_000
    )


async def run(
    concurrency: int, duration: float, call: Callable[[int], Awaitable[Any]]
) -> tuple[float, float, list[float]]:
    """Claims per second, client CPU seconds per claim, and latencies."""
    latencies: list[float] = []
    measuring, stop = False, asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            await call(next(serial))
            if measuring:
                latencies.append(time.perf_counter() - start)

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(1.0)
    measuring, started, cpu = True, time.perf_counter(), time.process_time()
    await asyncio.sleep(duration)
    measuring, elapsed = False, time.perf_counter() - started
    cpu = time.process_time() - cpu
    stop.set()
    await asyncio.gather(*tasks)
    return len(latencies) / elapsed, cpu / max(len(latencies), 1), latencies


async def bench(
    url: str, concurrency: int, duration: float, repeats: int
) -> list[tuple[str, float, float, list[float]]]:
    store = open_store(url, prefix="bench:", timeout=5.0)
    assert isinstance(store, RedisStore)
    issued, outcomes = 0, dict[str, int]()

    async def store_claim(n: int) -> None:
        nonlocal issued
        issued += (await store.claim(claim_step(n), NOW)).status == "issued"

    keys, argv = claim_args(store._keys, claim_step(0), NOW)
    script, template = store._scripts["claim"], ids(0)

    async def bare_claim(n: int) -> None:
        ks, args = keys, argv
        for mark, value in zip(template, ids(n), strict=True):
            ks = [k.replace(mark, value) for k in ks]
            args = args.replace(mark.encode(), value.encode())
        reply = await script(keys=ks, args=[args])
        outcomes[reply[0]] = outcomes.get(reply[0], 0) + 1

    shared = store._client.register_script(SHARED_LUA.read_text())
    await store._client.set("{bench}:stock", BIG)

    async def shared_claim(n: int) -> None:
        keys_ = [
            "{bench}:stock",
            "{bench}:users",
            "{bench}:budget",
            f"{{bench}}:idem:{n}",
            "{bench}:stream",
        ]
        await shared(keys=keys_, args=[f"u{n}", 3, 250, BIG, 300, f"r{n}", 100_000])

    variants = [("store", store_claim), ("bare", bare_claim), ("shared", shared_claim)]
    rows = []
    for rep in range(repeats):
        # Rotate the order, so that no variant always runs first (or last) on a busy box.
        shift = rep % len(variants)
        for name, call in variants[shift:] + variants[:shift]:
            rows.append((name, *await run(concurrency, duration, call)))
    # Both loops took the full write path: every call issued.
    assert issued > 0 and list(outcomes) == ["issued"], outcomes
    await store.drop()
    await store._client.delete("{bench}:stock", "{bench}:users", "{bench}:budget", "{bench}:stream")
    await store.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    loops: list[tuple[str, Callable[[Any], Any]]] = [("asyncio", asyncio.run)]
    try:
        import uvloop

        loops.append(("uvloop", uvloop.run))
    except ImportError:
        pass
    python_costs()
    server = start_redis()
    try:
        for loop_name, runner in loops:
            rows = runner(bench(server.url, args.concurrency, args.duration, args.repeats))
            report(loop_name, args.concurrency, rows)
    finally:
        server.stop()
    return 0


def python_costs() -> None:
    """Single-threaded Python cost per claim, best of 7: what the engine spends building a
    ClaimStep, and what RedisStore spends encoding it (KEYS, JSON ARGV)."""
    layout, steps = KeyLayout("bench:"), [claim_step(n) for n in range(2000)]

    def best(work: Callable[[], object]) -> float:
        return min(timeit.repeat(work, number=1, repeat=7)) / len(steps) * 1e6

    build = best(lambda: [claim_step(n) for n in range(len(steps))])
    encode = best(lambda: [claim_args(layout, step, NOW) for step in steps])
    print(
        f"python   per claim: build ClaimStep {build:.1f} us, encode for claim.lua {encode:.1f} us"
    )


def report(loop: str, concurrency: int, rows: list[tuple[str, float, float, list[float]]]) -> None:
    rates: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for name, rate, cpu, lat in rows:
        lat.sort()
        p50, p99 = statistics.median(lat) * 1e3, lat[int(len(lat) * 0.99)] * 1e3
        print(f"{loop:8} {name:7} N={concurrency}  {rate:9,.0f} claims/s  "
              f"client CPU {cpu * 1e6:4.0f} us/claim  p50 {p50:.2f} ms  p99 {p99:.2f} ms  "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        rates.setdefault(name, []).append(rate)
        cpus.setdefault(name, []).append(cpu)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    summary = "  ".join(
        f"{name} {rate:,.0f}/s ({statistics.median(cpus[name]) * 1e6:.0f} us)"
        for name, rate in medians.items()
    )
    print(f"{loop:8} median  {summary}  store/bare {medians['store'] / medians['bare']:.0%}")


if __name__ == "__main__":
    sys.exit(main())
