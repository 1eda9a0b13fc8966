"""Evaluate latency as a plain client sees it: the control for the sale-day figures.

    .venv/bin/python benchmarks/probe_latency.py [--users 25,200] [--duration 15]

Starts Redis and `promo serve` on loadtests/rules as `make loadtest` does (2 workers),
then for each user count runs the load tests' probe (loadtests/probe.py) with that many
threads: each with its own keep-alive connection, one evaluate a second from a random
offset, the browser's shoppers and carts, the claimable preview included. Latency is the
time around one request and its answer.

`bench_sale_day.py` measures with locust (FastHttpUser, gevent). On this machine locust
reported a median of 8-13 ms for evaluates at 25-30 requests/s, where this probe sees
well under 2 ms: much of the sale-day latency is the load generator's own. The two
together say how much of a p99 is the service.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import stamp, write_section  # noqa: E402
from loadtests.config import RULES_DIR, rehearse_instant  # noqa: E402
from loadtests.probe import percentile_ms, probe  # noqa: E402
from loadtests.processes import free_port, start_redis, start_service, wait_ready  # noqa: E402


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
            probe(f"http://127.0.0.1:{port}", 5, 2.0)  # warm: connections, caches
            for users in (int(u) for u in opts.users.split(",")):
                times = probe(f"http://127.0.0.1:{port}", users, opts.duration)
                rate = len(times) / opts.duration
                p50, p99 = percentile_ms(times, 50), percentile_ms(times, 99)
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
