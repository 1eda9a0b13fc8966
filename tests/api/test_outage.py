"""A store that is down or slow: claim, redeem and revert fail closed with 503 and
Retry-After, evaluate keeps answering its discounts with the store checks marked
`unavailable`, readyz says 503. On memory the store is switched off by a wrapper; on Redis
the redis-server is killed, or stopped (SIGSTOP) so that calls pass the 250 ms limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.settings import STORE_TIMEOUT
from engine.store.open import open_store
from tests.api.harness import STORES, Api, FlakyStore, redis_or_fail, running
from tests.api.helpers import EVALUATE, POT_CART, assert_problem, claim, issued_code
from tests.api.rules import write_rules
from tests.redis_server import RedisProcess


class Outage:
    """Switches the store of `api` off and on."""

    def __init__(self, api: Api, server: RedisProcess | None) -> None:
        self.api, self.server = api, server

    def start(self) -> None:
        if self.server is None:
            self.api.store.down = True
        else:
            self.server.kill()

    def slow(self) -> None:
        assert self.server is not None
        self.server.pause()

    def end(self) -> None:
        if self.server is None:
            self.api.store.down = False
        else:
            self.server.resume()


@pytest.fixture(params=STORES)
async def outage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outage]:
    """The service with the production store timeout, on a store the test can break."""
    rules = write_rules(tmp_path / "rules")
    server = None
    store: Any
    if request.param == "memory":
        store = FlakyStore(open_store("memory"))
    else:
        server = redis_or_fail()  # its own server: the test kills it
        store = open_store(server.url, timeout=STORE_TIMEOUT)
    try:
        async with running(store, rules, kind=request.param) as api:
            yield Outage(api, server)
    finally:
        await store.close()
        if server is not None:
            server.stop()


async def test_writes_fail_closed_with_503_and_retry_after(outage: Outage) -> None:
    api = outage.api
    code = await issued_code(api.sf, user="u2")
    outage.start()
    for response in (
        await claim(api.sf, key="k-1"),
        await api.sf.post("/v1/redemptions", json={"code": code, "user": "u2", "cart": POT_CART}),
        await api.sf.post(f"/v1/coupons/{code}/revert"),
    ):
        assert_problem(response, 503, "store_unavailable")
        assert response.headers["retry-after"] == "1"


async def test_evaluate_keeps_answering_and_marks_store_checks_unavailable(outage: Outage) -> None:
    api = outage.api
    code = await issued_code(api.sf)
    outage.start()
    response = await api.sf.post("/v1/evaluate", json={**EVALUATE, "coupons": [code]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {d["campaign"] for d in body["discounts"]} >= {"home_300", "free_ship"}
    assert body["claimable"], body
    assert all(c["available"] is False and c["reason"] == "unavailable" for c in body["claimable"])
    # The coupon cannot be looked up: its campaign is unknown without the store.
    assert {"campaign": None, "code": code, "reason": "unavailable"} in body["explanations"]


async def test_readyz_is_503_while_healthz_stays_up(outage: Outage) -> None:
    api = outage.api
    assert (await api.anon.get("/readyz")).status_code == 200
    outage.start()
    ready = await api.anon.get("/readyz")
    assert_problem(ready, 503, "not_ready")
    assert ready.headers["retry-after"] == "1"
    assert (await api.anon.get("/healthz")).status_code == 200


@pytest.mark.parametrize("outage", ["redis"], indirect=True)  # memory answers in-process
async def test_a_slow_store_is_503_after_250_ms_and_the_retry_is_safe(outage: Outage) -> None:
    api = outage.api
    outage.slow()
    started = time.monotonic()
    try:
        response = await claim(api.sf, key="retry-me")
    finally:
        outage.end()
    assert_problem(response, 503, "store_unavailable")
    assert time.monotonic() - started < 2.0
    await asyncio.sleep(0.2)  # the server runs what it had queued, if anything
    retry = await claim(api.sf, key="retry-me")
    assert retry.status_code == 200 and retry.json()["status"] == "issued", retry.text
    again = await claim(api.sf, key="retry-me")
    assert again.json()["replayed"] is True
    assert again.json()["coupons"] == retry.json()["coupons"]
