"""Evaluate latency as a plain client sees it: the control for the sale-day figures.

    .venv/bin/python benchmarks/probe_latency.py [--users 25,200] [--duration 15]

Starts Redis and `promo serve` on loadtests/rules as `make loadtest` does (2 workers),
then for each user count runs that many threads, each with its own keep-alive
connection (http.client), each sending one evaluate a second from a random offset: the
browser's shoppers and carts (loadtests/catalog.py), the claimable preview included.
Latency is the time around one request and its answer.

`bench_sale_day.py` measures with locust (FastHttpUser, gevent). On this machine locust
reported a median of 8-13 ms for evaluates at 25-30 requests/s, where this probe sees
well under 2 ms: much of the sale-day latency is the load generator's own. The two
together say how much of a p99 is the service.
"""

from __future__ import annotations

import argparse
import http.client
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import percentile, stamp, write_section  # noqa: E402
from loadtests.catalog import CARTS, shopper  # noqa: E402
from loadtests.config import RULES_DIR, rehearse_instant  # noqa: E402
from loadtests.processes import free_port, start_redis, start_service, wait_ready  # noqa: E402

_JSON = {"content-type": "application/json"}


def paced_users(port: int, users: int, seconds: float) -> list[float]:
    """Latencies of `users` threads sending one evaluate a second each for `seconds`."""
    latencies: list[float] = []
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def user(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        due = time.perf_counter() + rng.random()  # users are not in step
        mine = []
        while due < end:
            time.sleep(max(0.0, due - time.perf_counter()))
            body = orjson.dumps({"context": shopper(rng, "p").context(CARTS.pick(rng))})
            started = time.perf_counter()
            conn.request("POST", "/v1/evaluate", body=body, headers=_JSON)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                raise RuntimeError(f"evaluate answered {answer.status}")
            due += 1.0
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", default="25,200", help="comma-separated user counts")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per user count")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    opts = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="probe-") as tmp:
        work = Path(tmp)
        redis, store = start_redis(work, work / "redis.log")
        service = None
        try:
            port = free_port()
            service = start_service(
                RULES_DIR, store, port, 2, rehearse_instant(3600), work / "serve.log"
            )
            wait_ready(f"http://127.0.0.1:{port}", service, 60.0)
            paced_users(port, 5, 2.0)  # warm: connections, caches
            for users in (int(u) for u in opts.users.split(",")):
                times = paced_users(port, users, opts.duration)
                rate = len(times) / opts.duration
                p50, p99 = percentile(times, 50) * 1e3, percentile(times, 99) * 1e3
                rows.append(f"| {users} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {len(times):,} |")
                print(rows[-1], flush=True)
        finally:
            if service is not None:
                service.stop()
            redis.stop()
    body = "\n".join([
        "## Probe: evaluate latency as a plain client sees it",
        "",
        f"{stamp()} `benchmarks/probe_latency.py`: Redis and `promo serve` (2 workers) on",
        "loadtests/rules, as `make loadtest` starts them; threads with one keep-alive",
        "connection each, one evaluate a second per thread from a random offset (the",
        "browser's shoppers and carts, claimable preview included). The control for the",
        "sale-day section, whose latencies locust measures with its own overhead in them.",
        "",
        "| users | requests/s | p50 ms | p99 ms | requests |",
        "|---|---|---|---|---|",
        *rows,
    ])  # fmt: skip
    if not opts.no_write:
        write_section("probe", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
