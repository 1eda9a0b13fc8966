"""The per-process copy of runtime lists and pause states (engine/caches.py): it sees other
processes' changes at its next refresh, and reloads only what moved."""

from __future__ import annotations

from engine.caches import StoreCache
from engine.store import CounterStore


async def test_changes_count_list_and_pause_changes_in_one_read(store: CounterStore) -> None:
    assert await store.changes() == (0, 0)
    await store.list_add("blocked", ["u1"])
    await store.set_paused("spring-2026", "flash", True)
    await store.list_remove("blocked", ["u1"])
    assert await store.changes() == (2, 1)
    assert await store.changes() == ((await store.lists())[0], (await store.paused())[0])


async def test_a_refresh_reloads_only_what_another_process_changed(store: CounterStore) -> None:
    await store.list_add("blocked", [f"d{i}" for i in range(1000)])
    await store.set_paused("spring-2026", "flash", True)
    cache = StoreCache(store)
    await cache.refresh()
    lists, paused = cache.lists, cache.paused
    assert len(lists["blocked"]) == 1000 and paused == {("spring-2026", "flash")}

    await cache.refresh()  # nothing moved: the same copies, nothing rebuilt
    assert cache.lists is lists and cache.paused is paused

    await store.list_add("vip", ["u7"])  # another process's change, straight to the store
    await cache.refresh()
    assert cache.lists == {**lists, "vip": frozenset({"u7"})}
    assert cache.paused is paused

    await store.set_paused("spring-2026", "flash", False)
    lists = cache.lists
    await cache.refresh()
    assert cache.paused == frozenset() and cache.lists is lists


async def test_a_full_reload_comes_however_the_counters_look(store: CounterStore) -> None:
    await store.list_add("blocked", ["u1"])
    cache = StoreCache(store, full_reload=0.0)
    await cache.refresh()
    lists = cache.lists
    await cache.refresh()
    assert cache.lists is not lists and cache.lists == lists
