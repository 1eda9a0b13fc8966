"""What every simulated user shares: the HTTP calls, the claim retry rule, the records.

A storefront server calls promo-engine with a short timeout and, for claims, an
Idempotency-Key it reuses on every retry (docs/api.md "Retries"): after a timeout or a
503 it sends the same claim again and gets the original result if the first one went
through. Every attempt is recorded before it is sent, every `issued` answer after.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
import orjson
from locust import FastHttpUser

from loadtests.config import RunEnv
from loadtests.pacing import Pacer
from loadtests.records import Recorder

RUN = RunEnv.from_env()
RECORDER = Recorder(RUN.records)
# Without `loadtests.run` (a bare `locust -f`), the drop opens a third into the run.
T0_WALL = RUN.t0_wall or time.time() + RUN.duration / 3

Check = Callable[[dict[str, Any]], str | None]  # a reason to fail the answer, or None
_JSON = {"content-type": "application/json"}


class PromoUser(FastHttpUser):
    abstract = True
    # A storefront does not let a checkout page hang on promotions: 2 s, then retry.
    network_timeout = 2.0
    connection_timeout = 2.0
    think: ClassVar[tuple[float, float]] = (1.0, 3.0)  # seconds between tasks

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random()
        self.headers = dict(_JSON)
        if RUN.api_key:
            self.headers["authorization"] = f"Bearer {RUN.api_key}"
        self._pacer = Pacer(1.0 / RUN.pace, time.perf_counter()) if RUN.pace > 0 else None

    def wait_time(self) -> float:
        if self._pacer is not None:
            return self._pacer.wait(time.perf_counter())
        return self.rng.uniform(*self.think)

    def on_start(self) -> None:
        # Locust starts the users of one spawn step at the same instant, and paced users
        # then stay in step: all of them at once every period, a burst that no crowd of
        # shoppers sends. The service answers such bursts by queueing: 25 users in step
        # saw evaluates at p50 11 ms, the same users out of step 1.8 ms (a plain gevent
        # client, 2026-11-29). So each user starts at a random point of its period.
        self.scatter()

    def scatter(self) -> None:
        """Wait a random part of this user's period and count its pace from there, so that
        its next tasks fall out of step with users that started (or, at a flash drop,
        rushed) at the same instant."""
        gevent.sleep(self.rng.uniform(0.0, 1.0 / RUN.pace if RUN.pace > 0 else self.think[1]))
        if self._pacer is not None:
            self._pacer.restart(time.perf_counter())

    def call(
        self, name: str, path: str, body: dict[str, Any] | None, *,
        headers: dict[str, str] | None = None, check: Check | None = None,
    ) -> tuple[int, dict[str, Any] | None]:  # fmt: skip
        """POST `body`; the status (0: no answer in time) and the JSON answer of a 200."""
        # Bytes as they are: geventhttpclient sends them (the annotation says str).
        data: Any = orjson.dumps(body) if body is not None else b""
        with self.client.post(
            path, data=data, headers=headers or self.headers, name=name, catch_response=True
        ) as resp:
            status = resp.status_code or 0
            if status == 0:
                resp.failure(f"no answer: {resp.error!r}")
                return 0, None
            if status >= 500:
                RECORDER.server_error(name, status)
            if status != 200:
                resp.failure(f"HTTP {status}: {(resp.text or '')[:200]}")
                return status, None
            try:
                value = orjson.loads(resp.content or b"")
            except orjson.JSONDecodeError:
                resp.failure("the answer is not JSON")
                return status, None
            problem = check(value) if check is not None else None
            if problem is not None:
                resp.failure(problem)
            else:
                resp.success()
            return status, value

    def new_key(self, campaign: str) -> str:
        return f"{campaign}-{self.rng.getrandbits(80):020x}"

    def claim(
        self, name: str, body: dict[str, Any], *, key: str | None, attempts: int = 3
    ) -> dict[str, Any] | None:
        """Claim, retrying a timeout or a 503 with the same key (never without one: a
        keyless retry could issue twice). The answer, or None when none came."""
        headers = dict(self.headers)
        if key is not None:
            headers["idempotency-key"] = key
        for attempt in range(attempts):
            RECORDER.sent(body, key)
            status, result = self.call(name, "/v1/claims", body, headers=headers, check=_claim_ok)
            if result is not None:
                if result.get("status") == "issued":
                    RECORDER.acknowledged(body, key, result)
                return result
            if key is None or status not in (0, 503):
                return None
            gevent.sleep(0.1 * 2**attempt + self.rng.uniform(0, 0.1))
        return None


def _claim_ok(result: dict[str, Any]) -> str | None:
    status = result.get("status")
    if status == "issued":
        return None if result.get("claim_id") else "an issued claim without claim_id"
    if status == "rejected":
        return None if result.get("reason") else "a rejection without reason"
    return f"unexpected claim status {status!r}"


def evaluate_ok(result: dict[str, Any]) -> str | None:
    """An evaluate answer keeps its own arithmetic: what is paid is never negative."""
    paid = result.get("paid")
    if not isinstance(paid, str) or paid.startswith("-"):
        return f"evaluate paid {paid!r}"
    return None
