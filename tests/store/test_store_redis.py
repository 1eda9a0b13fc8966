"""What only RedisStore has: scripts, key layout, TTLs, failures of the server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from engine.store import Draw, StoreUnavailable
from engine.store.lane import Wire
from engine.store.open import open_store
from engine.store.redis import RedisStore
from tests.redis_server import RedisProcess, free_port
from tests.store.builders import NOW, claim, coupon, draw, limit, outcome, redeem
from tests.store.conftest import redis_or_fail, unique_prefix

pytestmark = pytest.mark.redis


@pytest.fixture
async def raw(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def rstore(redis_server: RedisProcess) -> AsyncIterator[RedisStore]:
    store = open_store(redis_server.url, prefix=unique_prefix(), timeout=5.0)
    assert isinstance(store, RedisStore)
    yield store
    await store.drop()
    await store.close()


@pytest.fixture
def own_server() -> Iterator[RedisProcess]:
    """A server of this test's own, to kill or pause."""
    server = redis_or_fail()
    yield server
    server.stop()


async def keys_of(raw: Redis, store: RedisStore) -> set[str]:
    return {k async for k in raw.scan_iter(match=store._keys.pattern())}


async def test_a_claim_is_one_round_trip(
    rstore: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = coupon()  # the first call of each script loads it (NOSCRIPT, SCRIPT LOAD)
    await rstore.claim(claim(outcomes=[outcome(coupons=[warm])]), NOW)
    await rstore.redeem(redeem(warm.code), NOW)
    calls: list[Any] = []
    execute, send = rstore._client.execute_command, Wire.send

    async def counted(*args: Any, **options: Any) -> Any:
        calls.append(args[0])
        return await execute(*args, **options)

    def sent(wire: Wire, command: bytes, timeout: float) -> Any:  # the lane's commands
        calls.append(command.split(b"\r\n")[2].decode())
        return send(wire, command, timeout)

    monkeypatch.setattr(rstore._client, "execute_command", counted)
    monkeypatch.setattr(Wire, "send", sent)
    prizes = [outcome("c30", 1, coupons=[coupon()]), outcome("otherwise", 1)]
    step = claim(key="k", checks=[limit("l:u", 5)], draw=draw(0.0, guarantee=0), outcomes=prizes)
    await rstore.claim(step, NOW)
    await rstore.redeem(redeem(step.outcomes[0].coupons[0].code), NOW)
    assert calls == ["EVALSHA", "EVALSHA"]


async def test_a_flushed_script_is_loaded_again(rstore: RedisStore, raw: Redis) -> None:
    await rstore.claim(claim(), NOW)
    await raw.script_flush()  # NOSCRIPT on the next EVALSHA
    assert (await rstore.claim(claim(), NOW)).status == "issued"


async def test_keys_follow_the_layout_under_one_tag(rstore: RedisStore, raw: Redis) -> None:
    new = coupon()
    prizes = [outcome("c30", 1, coupons=[new]), outcome("otherwise", 1)]
    lottery = draw(0.0, guarantee=0, after=5)
    step = claim(key="k1", checks=[limit("l:*:user:all:u1", 3)], draw=lottery, outcomes=prizes)
    await rstore.claim(step, NOW)
    await rstore.list_add("blocked", ["x"])
    p, base = rstore._keys.prefix, f"{rstore._keys.prefix}{{T01}}:spring-2026:flash:"
    tagged = {f"{base}l:*:user:all:u1", f"{base}p:u1", f"{base}!k:2:u1:k1",
              f"{p}{{T01}}:c:{new.code}", f"{p}{{T01}}:log"}  # fmt: skip
    assert await keys_of(raw, rstore) == tagged | {f"{p}list:blocked", f"{p}lists", f"{p}lists:n"}
    assert len({key_slot(k.encode()) for k in tagged}) == 1


async def test_keys_expire_relative_to_engine_time(rstore: RedisStore, raw: Redis) -> None:
    # Engine time is far from the server's clock: TTLs are expires_at - now.
    checks = [limit("l:day", 3, expires_at=NOW + 100), limit("l:all", 3)]
    lottery = Draw(0.9, True, 0, 5, "p:u1", pity_expires_at=NOW + 700)
    prizes = [outcome("x", 1, coupons=[coupon()]), outcome("otherwise", 1)]
    step = claim(key="k1", key_expires_at=NOW + 5000, checks=checks, draw=lottery, outcomes=prizes)
    await rstore.claim(step, NOW)
    base = f"{rstore._keys.prefix}{{T01}}:spring-2026:flash:"
    assert 90 < await raw.ttl(f"{base}l:day") <= 100
    assert 690 < await raw.ttl(f"{base}p:u1") <= 700
    assert 4990 < await raw.ttl(f"{base}!k:2:u1:k1") <= 5000
    assert await raw.ttl(f"{base}l:all") == -1  # no expires_at: kept
    assert await raw.ttl(f"{rstore._keys.prefix}{{T01}}:log") == -1


async def test_drop_removes_only_its_own_prefix(redis_server: RedisProcess, raw: Redis) -> None:
    # '*' in a prefix is escaped in SCAN MATCH: dropping "t*:" leaves "tx:" alone.
    glob, plain = (
        open_store(redis_server.url, prefix="t*:"),
        open_store(redis_server.url, prefix="tx:"),
    )
    try:
        for store in (glob, plain):
            await store.claim(claim(), NOW)
            await store.list_add("l", ["a"])
        await glob.drop()
        assert [k async for k in raw.scan_iter(match="t\\*:*")] == []
        assert len([k async for k in raw.scan_iter(match="tx:*")]) == 5
    finally:
        await plain.drop()
        for store in (glob, plain):
            await store.close()


def test_a_prefix_with_braces_is_refused() -> None:
    with pytest.raises(ValueError, match="braces"):
        open_store("memory", prefix="{promo}:")


@pytest.mark.parametrize("url", ["postgres://x", "redis+cluster://", "memory:"])
def test_an_unknown_store_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="redis://HOST:PORT/DB"):
        open_store(url)


async def test_a_refused_connection_is_unavailable() -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable, match="ConnectionError"):
        await store.claim(claim(), NOW)
    with pytest.raises(StoreUnavailable):
        await store.lists()
    await store.close()


async def test_a_killed_server_is_unavailable_until_restarted(own_server: RedisProcess) -> None:
    store = open_store(own_server.url, timeout=1.0)
    assert (await store.claim(claim(), NOW)).status == "issued"
    own_server.kill()
    with pytest.raises(StoreUnavailable):
        await store.claim(claim(), NOW)
    with pytest.raises(StoreUnavailable):
        await store.ping()
    own_server.restart()
    assert (await store.claim(claim(), NOW)).status == "issued"  # scripts loaded again
    await store.close()


async def test_a_server_that_does_not_answer_times_out(own_server: RedisProcess) -> None:
    store = open_store(own_server.url, timeout=0.25)
    await store.ping()
    own_server.pause()  # SIGSTOP: connections stay open, nothing answers
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="Timeout"):
            await store.claim(claim(), NOW)
        assert 0.2 <= time.monotonic() - started < 1.0
    finally:
        own_server.resume()
    assert (await store.claim(claim(), NOW)).status == "issued"
    await store.close()
