"""A plain client beside locust: paced evaluates from a few threads, each request timed.

Locust's latencies include its own queueing: one gevent process drives every user, and
its request times grow with the number of users while the service still answers at once.
During a locust run at 200 users, locust reported evaluates at p50 80 ms while this probe,
in another process against the same service, measured p50 2.9 ms (2026-11-29). So a load
test reports both: locust's figures, and what a storefront sees at the load locust makes.

Each thread has its own keep-alive connection and sends one evaluate a second (a shopper
and a cart of loadtests/catalog.py, the claimable preview included), starting at a random
point of its first second so that the threads are not in step.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from urllib.parse import urlsplit

import orjson

from loadtests.catalog import CARTS, shopper


def probe(base_url: str, threads: int, seconds: float, api_key: str = "") -> list[float]:
    """Seconds of every evaluate that `threads` paced threads sent in `seconds`, sorted.
    A request that fails or answers other than 200 raises in its thread and ends it."""
    url = urlsplit(base_url)
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    latencies: list[float] = []
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def run(seed: int) -> None:
        rng = random.Random(seed)
        conn = kind(url.hostname or "127.0.0.1", url.port, timeout=5)
        mine = []
        due = time.perf_counter() + rng.random()
        try:
            while due < end:
                time.sleep(max(0.0, due - time.perf_counter()))
                body = orjson.dumps({"context": shopper(rng, "probe").context(CARTS.pick(rng))})
                started = time.perf_counter()
                conn.request("POST", "/v1/evaluate", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"the probe's evaluate answered {answer.status}")
                mine.append(time.perf_counter() - started)
                due += 1.0
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(latencies)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def percentile_ms(latencies: list[float], p: float) -> float:
    """`percentile` of latencies in seconds, in milliseconds."""
    return percentile(latencies, p) * 1e3
