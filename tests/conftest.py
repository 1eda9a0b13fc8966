"""Fixtures shared by every test package: a real redis-server for the session.

Tests that need Redis start their own server on a free port (tests/redis_server.py) and
stop it by its pid; a missing `redis-server` binary fails them with a message that says
how to install it, never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
