"""open_store: a CounterStore from a URL (the service's and the case runner's `--store`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from engine.store import CounterStore
from engine.store.memory import MemoryStore
from engine.store.redis import RedisStore

FORMS = "'memory', 'redis://HOST:PORT/DB' or 'redis+cluster://HOST:PORT'"


def open_store(url: str, *, prefix: str = "promo:", timeout: float = 0.25) -> CounterStore:
    """A store for `url`; nothing connects until the first call.

    `timeout` bounds connecting and every reply (seconds): past it a call raises
    StoreUnavailable.

    >>> type(open_store("memory")).__name__
    'MemoryStore'
    """
    if url == "memory":
        return MemoryStore(prefix)
    parts = urlsplit(url)
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # No retries: a step that timed out may have run, and a second run could issue
        # twice. The caller retries with its idempotency key instead.
        "retry": Retry(NoBackoff(), 0),
    }
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisStore(Redis.from_url(url, **options), prefix)
    if parts.scheme == "redis+cluster":
        if parts.hostname is None:
            raise ValueError(f"no host in store URL {url!r}: use {FORMS}")
        cluster = RedisCluster(host=parts.hostname, port=parts.port or 6379, **options)
        return RedisStore(cluster, prefix)
    raise ValueError(f"unknown store {url!r}: use {FORMS}")
