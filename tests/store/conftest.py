"""Store fixtures: one real redis-server per session, and `store`, which runs every test
that takes it once on MemoryStore and once on RedisStore (STYLE.md: one suite, two stores)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from engine.store import CounterStore
from engine.store.open import open_store
from tests.redis_server import RedisProcess, RedisServerMissing, start_redis


def redis_or_fail(**options: bool) -> RedisProcess:
    """A fresh redis-server; a missing binary fails the test (never a skip)."""
    try:
        return start_redis(**options)
    except RedisServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisProcess]:
    server = redis_or_fail()
    yield server
    server.stop()


def unique_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    """A fresh store with its own prefix, dropped afterwards (not flushed: the server is
    shared by the session)."""
    url = "memory" if request.param == "memory" else request.getfixturevalue("redis_server").url
    # A generous timeout: two shared cores under load must not fail a conformance test.
    store = open_store(url, prefix=unique_prefix(), timeout=5.0)
    yield store
    await store.drop()
    await store.close()
