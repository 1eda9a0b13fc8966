"""API fixtures: the app on each store (memory, and a real redis-server started here),
with API keys and a fixed engine clock (tests/api/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.api.harness import STORES, Api, new_store, redis_or_fail, running
from tests.api.rules import write_rules
from tests.redis_server import RedisProcess


@pytest.fixture(scope="session")
def api_redis() -> Iterator[RedisProcess]:
    server = redis_or_fail()
    yield server
    server.stop()


@pytest.fixture(params=STORES)
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """The service on `shop.promo` (tests/api/rules.py), once per store."""
    store = new_store(request.param, request)
    try:
        async with running(store, write_rules(tmp_path / "rules"), kind=request.param) as api:
            yield api
    finally:
        await store.drop()
        await store.close()
