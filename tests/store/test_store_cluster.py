"""RedisStore on a three-master Redis Cluster: every step on the slot of its tag, reads and
drop across nodes, and a node that dies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from engine.store import Scope, StoreUnavailable
from engine.store.open import open_store
from engine.store.redis import RedisStore
from tests.redis_server import RedisClusterProcesses, RedisServerMissing, start_cluster
from tests.store.builders import NOW, claim, coupon, draw, limit, outcome, redeem, revert
from tests.store.conftest import unique_prefix

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterProcesses]:
    try:
        processes = start_cluster(3)
    except RedisServerMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    yield processes
    processes.stop()


@pytest.fixture
async def cstore(cluster: RedisClusterProcesses) -> AsyncIterator[RedisStore]:
    store = open_store(cluster.url, prefix=unique_prefix(), timeout=5.0)
    assert isinstance(store, RedisStore)
    yield store
    await store.drop()
    await store.close()


def tags_on_three_nodes() -> list[str]:
    """One routing tag per third of the slots (redis-cli gives each master a third)."""
    found: dict[int, str] = {}
    for n in range(1000):
        tag = f"T{n:02d}"
        found.setdefault(key_slot(tag.encode()) * 3 // 16384, tag)
        if len(found) == 3:
            return [found[i] for i in range(3)]
    raise AssertionError("no tags on three nodes")


TAGS = tags_on_three_nodes()
SCOPES = [Scope("spring-2026", f"campaign{i}", tag) for i, tag in enumerate(TAGS)]


async def node_sizes(cluster: RedisClusterProcesses) -> list[int]:
    sizes = []
    for node in cluster.nodes:
        async with Redis.from_url(node.url) as client:
            sizes.append(await client.dbsize())
    return sizes


async def test_steps_run_on_the_slot_of_each_tag(
    cstore: RedisStore, cluster: RedisClusterProcesses
) -> None:
    issued = []
    for scope in SCOPES:
        new = coupon(f"{scope.tag}{'0' * 16}X")
        step = claim(
            scope=scope, key="k", checks=[limit("l:u1", 1)], outcomes=[outcome(coupons=[new])]
        )
        assert (await cstore.claim(step, NOW)).status == "issued"
        assert (await cstore.claim(step, NOW)).status == "replayed"
        assert (await cstore.redeem(redeem(new.code, order="o"), NOW)).status == "redeemed"
        assert (await cstore.revert(revert(new.code), NOW)).status == "reverted"
        assert await cstore.counters(scope, ["l:u1", "none"]) == [1, 0]
        assert [e["type"] for e in await cstore.log(scope)] == ["claim", "redeem", "revert"]
        issued.append(new.code)
    # One read across three nodes.
    found = await cstore.coupons([(c[:3], c) for c in issued])
    assert sorted(found) == sorted(issued)
    assert all(size > 0 for size in await node_sizes(cluster))


async def test_a_lottery_and_pity_on_a_cluster(cstore: RedisStore) -> None:
    scope = SCOPES[1]
    step = claim(scope=scope, draw=draw(0.99, guarantee=0, after=1),
                 outcomes=[outcome("phone", 1), outcome("otherwise", 9)])  # fmt: skip
    assert [(await cstore.claim(step, NOW)).outcome for _ in range(3)] == [1, 0, 1]
    assert await cstore.pity(scope, "p:u1") == 1


async def test_shared_state_and_drop_across_masters(
    cstore: RedisStore, cluster: RedisClusterProcesses
) -> None:
    await cstore.list_replace("blocked", ["a", "b"])
    await cstore.list_add("vip", ["c"])
    await cstore.set_paused("spring-2026", "campaign0", True)
    assert await cstore.add_version("spring-2026", "v1", NOW) == 1
    await cstore.activate("spring-2026", 1)
    await cstore.put_terms({"t1": "x", "t2": "y"})
    await cstore.add_stats(SCOPES[2], {"ended": 2})
    assert await cstore.lists() == (2, {"blocked": frozenset("ab"), "vip": frozenset("c")})
    assert (await cstore.paused())[1] == {("spring-2026", "campaign0")}
    assert [v.active for v in await cstore.versions()] == [True]
    assert await cstore.active_versions() == {"spring-2026": 1}
    assert await cstore.changes() == (2, 1)
    assert await cstore.get_terms(["t1", "t2"]) == {"t1": "x", "t2": "y"}
    assert await cstore.stats(SCOPES[2]) == {"ended": 2}
    for scope in SCOPES:
        await cstore.claim(
            claim(scope=scope, outcomes=[outcome(coupons=[coupon(f"{scope.tag}1X")])]), NOW
        )
    await cstore.drop()
    assert await node_sizes(cluster) == [0, 0, 0]


async def test_a_dead_master_is_unavailable(cluster: RedisClusterProcesses) -> None:
    # Last in this module: it kills a node.
    store = open_store(cluster.url, prefix=unique_prefix(), timeout=1.0)
    assert isinstance(store, RedisStore)
    try:
        await store.ping()
        node = cluster.nodes[1]
        tag = next(t for t in TAGS if store._client.get_node_from_key(f"{{{t}}}").port == node.port)
        node.kill()
        with pytest.raises(StoreUnavailable):
            await store.claim(claim(scope=Scope("r", "c", tag)), NOW)
    finally:
        await store.close()
