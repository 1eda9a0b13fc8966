"""What one request of each kind costs the service: CPU milliseconds of its workers and of
Redis per request, one client sending them one after another (no queueing), on the
sale-day rules of loadtests/. CPU time hardly depends on what else runs on the machine,
so these figures stay comparable when the wall-clock ones do not.

    .venv/bin/python benchmarks/request_costs.py
"""

from __future__ import annotations

import http.client
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.catalog import cart, shopper
from loadtests.config import CHECKOUT, CHECKOUT_PLAIN, RULES_DIR, rehearse_instant
from loadtests.processes import free_port, start_redis, start_service, tree_cpu, wait_ready

Request = tuple[str, str, bytes | None]  # method, path, body


@dataclass(frozen=True)
class Cost:
    kind: str
    service_ms: float  # CPU of the service's processes per request
    redis_ms: float
    wall_ms: float  # mean round trip seen by the client


def _kinds(rng: random.Random) -> dict[str, Callable[[], Request]]:
    def evaluate(lines: int) -> Callable[[], Request]:
        def make() -> Request:
            context = shopper(rng, "rc").context(cart(rng, lines=lines))
            return "POST", "/v1/evaluate", orjson.dumps({"context": context})

        return make

    def claim() -> Request:
        s = shopper(rng, "rc")
        body = {"campaign": CHECKOUT, "reward": CHECKOUT_PLAIN, "user": s.user(),
                "device": s.device, "ip": s.ip}  # fmt: skip
        return "POST", "/v1/claims", orjson.dumps(body)

    return {
        "GET /healthz (HTTP stack only)": lambda: ("GET", "/healthz", None),
        "evaluate, 2 lines": evaluate(2),
        "evaluate, 30 lines": evaluate(30),
        "claim (checkout coupon)": claim,
    }


def measure(count: int = 1000, workers: int = 2) -> list[Cost]:
    workdir = Path(tempfile.mkdtemp(prefix="promo-costs-"))
    redis, url = start_redis(workdir, workdir / "redis.log")
    port = free_port()
    service = start_service(
        RULES_DIR, url, port, workers, rehearse_instant(0), workdir / "serve.log"
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", service, 120)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        costs = []
        for kind, make in _kinds(random.Random(7)).items():
            requests = [make() for _ in range(count)]
            _send(conn, requests[:50])  # warm: connections, caches
            cpu, redis_cpu, start = tree_cpu(service.pid), tree_cpu(redis.pid), time.perf_counter()
            _send(conn, requests)
            wall = time.perf_counter() - start
            costs.append(Cost(
                kind, 1000 * (tree_cpu(service.pid) - cpu) / count,
                1000 * (tree_cpu(redis.pid) - redis_cpu) / count, 1000 * wall / count,
            ))  # fmt: skip
        return costs
    finally:
        service.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _send(conn: http.client.HTTPConnection, requests: list[Request]) -> None:
    headers = {"content-type": "application/json"}
    for method, path, body in requests:
        conn.request(method, path, body, headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{method} {path} answered {answer.status}")


if __name__ == "__main__":
    for cost in measure():
        print(cost)
