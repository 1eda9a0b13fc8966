"""The API under test: the app on a store, started with its lifespan, with an httpx client
per role (`running`), and the stores the fixtures in conftest.py give it.

    async with running(store, rules_dir, kind="memory") as api:
        r = await api.sf.post("/v1/claims", json={...})   # storefront key
        r = await api.op.get("/v1/campaigns")               # operator key
        r = await api.anon.get("/v1/campaigns")             # no key: 401
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.settings import Settings
from engine.clock import FixedClock
from engine.store import CounterStore, StoreUnavailable
from engine.store.open import open_store
from tests.api.rules import NOW
from tests.redis_server import RedisProcess, RedisServerMissing, start_redis

STOREFRONT_KEY = "sf-key-0123456789abcdef"
OPERATOR_KEY = "op-key-0123456789abcdef"
KEYS = f"storefront:{STOREFRONT_KEY},operator:{OPERATOR_KEY}"
STOREFRONT = {"Authorization": f"Bearer {STOREFRONT_KEY}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
STORES = ["memory", "redis"]


def redis_or_fail() -> RedisProcess:
    """A fresh redis-server; a missing binary fails the test (never a skip)."""
    try:
        return start_redis()
    except RedisServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)


class FlakyStore:
    """A store that can be switched off: every call raises StoreUnavailable while `down`
    is set (the memory store's stand-in for a Redis outage)."""

    def __init__(self, store: CounterStore) -> None:
        self.inner = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute) or name in ("close", "drop"):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreUnavailable("switched off by the test")
            return await attribute(*args, **kwargs)

        return call


@dataclass
class Api:
    app: FastAPI
    store: Any  # the store the app was given (a FlakyStore in memory outage tests)
    clock: FixedClock
    sf: httpx.AsyncClient
    op: httpx.AsyncClient
    anon: httpx.AsyncClient
    kind: str


def new_store(kind: str, request: pytest.FixtureRequest) -> CounterStore:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    if kind == "memory":
        return open_store("memory", prefix=prefix)
    server: RedisProcess = request.getfixturevalue("api_redis")
    # Generous: two shared cores under load must not turn a test's call into a 503.
    return open_store(server.url, prefix=prefix, timeout=5.0)


@asynccontextmanager
async def running(
    store: Any, rules: Path, *, kind: str, keys: str = KEYS, **options: Any
) -> AsyncIterator[Api]:
    """The app on `store`, started (lifespan) and stopped, with its clients."""
    clock = FixedClock(NOW)
    settings = Settings(
        rules_dir=rules, store=store, clock=clock, api_keys=keys, lottery_seed=7, **options
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app)
    base = "http://promo.test"
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        sf = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=base, headers=STOREFRONT)
        )
        op = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=base, headers=OPERATOR)
        )
        anon = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=base)
        )
        yield Api(app, store, clock, sf, op, anon, kind)
