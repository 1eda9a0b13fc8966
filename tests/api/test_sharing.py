"""Two services on one store, as two workers (or two hosts) are: a version activated, a
campaign paused or a list changed through one is served by the other within a second.
On both stores (a memory store shared in-process stands for Redis here)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.api.harness import STORES, Api, new_store, running
from tests.api.helpers import claim
from tests.api.rules import SHOP_V2, write_rules


@pytest.fixture(params=STORES)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Api, Api]]:
    store = new_store(request.param, request)
    rules = write_rules(tmp_path / "rules")
    try:
        async with AsyncExitStack() as stack:
            one = await stack.enter_async_context(running(store, rules, kind=request.param))
            two = await stack.enter_async_context(running(store, rules, kind=request.param))
            yield one, two
    finally:
        await store.drop()
        await store.close()


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """How long until `check` holds; fails past `seconds`."""
    started = time.monotonic()
    while not await check():
        elapsed = time.monotonic() - started
        assert elapsed < seconds, f"not seen within {seconds} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_the_seeded_version_is_not_duplicated(pair: tuple[Api, Api]) -> None:
    one, _ = pair
    history = (await one.op.get("/v1/rulesets/shop/versions")).json()
    assert [v["version"] for v in history["versions"]] == [1]


async def test_an_activated_version_reaches_the_other_worker(pair: tuple[Api, Api]) -> None:
    one, two = pair
    uploaded = await one.op.post("/v1/rulesets", content=SHOP_V2)
    number = uploaded.json()["version"]
    await one.op.post(f"/v1/rulesets/shop/versions/{number}/activate")

    async def served() -> bool:
        rulesets = (await two.op.get("/v1/rulesets")).json()["rulesets"]
        return bool(rulesets[0]["version"] == number)

    await within(1.0, served)
    centre = (await two.op.get("/v1/campaigns/coupon_centre")).json()
    assert centre["rewards"][0]["face_value"] == "15.00"


async def test_a_pause_and_a_list_reach_the_other_worker(pair: tuple[Api, Api]) -> None:
    one, two = pair
    await one.op.post("/v1/campaigns/coupon_centre/pause")

    async def paused() -> bool:
        return bool((await claim(two.sf, user="p1")).json().get("reason") == "paused")

    await within(1.0, paused)
    await one.op.post("/v1/campaigns/coupon_centre/resume")
    await one.op.put("/v1/lists/blocked_users", json={"values": ["u7"]})

    async def denied() -> bool:
        return bool((await claim(two.sf, user="u7")).json().get("reason") == "denied")

    await within(1.0, denied)
