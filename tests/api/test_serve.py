"""`promo serve` as a real process: the refusals (a public address without keys, several
workers on the memory store, rule files with errors, a rehearsal on real data), two
workers on Redis serving a newly activated version within a second, and --watch."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.store.open import open_store
from tests.api.harness import KEYS, OPERATOR, STOREFRONT, redis_or_fail
from tests.api.helpers import claim_body
from tests.api.rules import SHOP, SHOP_V2, write_rules
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def environment(keys: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMO_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = str(ROOT)
    if keys is not None:
        env["PROMO_API_KEYS"] = keys
    return env


def promo(*args: str, keys: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dsl.cli", *args],
        cwd=ROOT, env=environment(keys), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@contextmanager
def serving(*args: str, keys: str | None = KEYS, log: Path) -> Iterator[str]:
    """`promo serve ARGS` on a free port until the block ends; yields its base URL."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dsl.cli", "serve", *args, "--port", str(port)],
            cwd=ROOT, env=environment(keys), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process, log)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)  # uvicorn stops its own workers
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"promo serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"promo serve was not ready in 60 s:\n{log.read_text()}")


@dataclass
class Answer:
    status: int
    worker: int
    body: Any


def fresh_get(base: str, path: str) -> Answer:
    """One request on its own connection, so that any worker may accept it (http.client:
    an httpx client per request would cost tens of milliseconds)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request("GET", path, headers={**OPERATOR, "Connection": "close"})
        response = connection.getresponse()
        body = json.loads(response.read()) if path != "/metrics" else response.read().decode()
        return Answer(response.status, int(response.getheader("x-promo-worker", "0")), body)
    finally:
        connection.close()


def worker_pids(base: str, count: int) -> set[int]:
    """The pids of the workers, from fresh connections until `count` have answered."""
    pids: set[int] = set()
    deadline = time.monotonic() + 20
    while len(pids) < count and time.monotonic() < deadline:
        pids.add(fresh_get(base, "/healthz").worker)
    return pids


def shop_version(answer: Answer) -> int:
    rulesets = {r["id"]: r["version"] for r in answer.body["rulesets"]}
    version: int = rulesets["shop"]
    return version


def test_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    done = promo("serve", str(write_rules(tmp_path)), "--host", "0.0.0.0", "--port", "1")
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0 without API keys" in done.stderr
    assert "PROMO_API_KEYS" in done.stderr


def test_refuses_several_workers_on_the_memory_store(tmp_path: Path) -> None:
    done = promo("serve", str(write_rules(tmp_path)), "--workers", "2", keys=KEYS)
    assert done.returncode == 2
    assert "--workers 2 needs a Redis store" in done.stderr


def test_refuses_rule_files_with_errors(tmp_path: Path) -> None:
    broken = SHOP.replace("deny when blocked\n    coupon", "deny when user.levle > 1\n    coupon")
    rules = write_rules(tmp_path, {"shop.promo": broken})
    done = promo("serve", str(rules), keys=KEYS)
    assert done.returncode == 1
    assert f"{rules}/shop.promo:" in done.stderr and "did you mean 'user.level'" in done.stderr


def test_two_workers_serve_a_new_version_within_a_second(tmp_path: Path) -> None:
    server = redis_or_fail()
    rules = write_rules(tmp_path / "rules")
    try:
        with serving(
            str(rules), "--workers", "2", "--store", server.url, log=tmp_path / "log"
        ) as base:
            pids = worker_pids(base, 2)
            assert len(pids) == 2, pids
            with httpx.Client(base_url=base, headers=OPERATOR, timeout=10) as client:
                up = client.post(
                    "/v1/rulesets", content=SHOP_V2, headers={"content-type": "text/plain"}
                )
                assert up.status_code == 201, up.text
                activated = client.post(
                    f"/v1/rulesets/shop/versions/{up.json()['version']}/activate"
                )
                assert activated.status_code == 200, activated.text
            activated_at = time.monotonic()
            first_new: dict[int, float] = {}
            while len(first_new) < 2 and time.monotonic() - activated_at < 5:
                answer = fresh_get(base, "/v1/rulesets")
                elapsed = time.monotonic() - activated_at
                pid, version = answer.worker, shop_version(answer)
                if version == 2:
                    first_new.setdefault(pid, elapsed)
                else:
                    assert elapsed < 1.0, (
                        f"worker {pid} still serves v{version} after {elapsed:.2f} s"
                    )
            assert set(first_new) == pids, f"not every worker answered: {first_new}"
            assert max(first_new.values()) < 1.0, first_new
            # The metrics of both workers, added up by whichever answers.
            metrics = fresh_get(base, "/metrics")
            assert metrics.status == 200 and "promo_http_requests_total" in metrics.body
    finally:
        server.stop()


def test_watch_swaps_a_changed_file_and_keeps_serving_on_errors(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    log = tmp_path / "log"
    with serving(str(rules), "--watch", log=log) as base:
        (rules / "shop.promo").write_text(SHOP_V2)
        assert wait_for_version(base, 2) < 3.0
        broken = SHOP_V2.replace(
            "deny when blocked\n    coupon", "deny when user.levle > 1\n    coupon"
        )
        (rules / "shop.promo").write_text(broken)
        deadline = time.monotonic() + 5
        while "did you mean 'user.level'" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"{rules}/shop.promo:" in log.read_text()
        assert shop_version(fresh_get(base, "/v1/rulesets")) == 2
        body = httpx.post(f"{base}/v1/claims", json=claim_body(), headers=STOREFRONT).json()
        assert body["status"] == "issued"


def wait_for_version(base: str, version: int) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 10:
        if shop_version(fresh_get(base, "/v1/rulesets")) == version:
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"v{version} was not served within 10 s")


async def write_real_data(url: str) -> None:
    """A version written by a service on the real clock, before modes were recorded."""
    store = open_store(url)
    await store.add_version("shop", SHOP, int(time.time()))
    await store.close()


def test_rehearse_runs_the_clock_from_the_instant_and_refuses_real_data(tmp_path: Path) -> None:
    server = redis_or_fail()
    rules = write_rules(tmp_path / "rules")
    instant = "2026-11-11T09:59:50+08:00"
    try:
        args = (str(rules), "--store", server.url, "--rehearse", instant)
        with serving(*args, log=tmp_path / "log") as base:
            body = httpx.post(f"{base}/v1/claims", json=claim_body(), headers=STOREFRONT).json()
            assert body["coupons"][0]["valid_from"].startswith("2026-11-11T09:59:5"), body
        other = redis_or_fail()
        try:
            asyncio.run(write_real_data(other.url))
            done = promo(
                "serve", str(rules), "--store", other.url, "--rehearse", instant, keys=KEYS
            )
            assert done.returncode == 2
            assert "--rehearse refused" in done.stderr
        finally:
            other.stop()
    finally:
        server.stop()
