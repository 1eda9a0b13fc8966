"""Everything besides the three steps, on both stores: terms, runtime lists (LANGUAGE.md
10.6), pause states (10.8), versions (10.9), the log, statistics, and drop."""

from __future__ import annotations

import pytest

from engine.store import CounterStore, Scope, Version
from tests.store.builders import NOW, SCOPE, claim, coupon, draw, limit, outcome, redeem, revert


async def test_terms_are_kept_by_id(store: CounterStore) -> None:
    await store.put_terms({"t1": '{"value": 3000}', "t2": "{}"})
    await store.put_terms({})
    assert await store.get_terms(["t2", "nope", "t1"]) == {"t1": '{"value": 3000}', "t2": "{}"}
    assert await store.get_terms([]) == {}


async def test_lists_change_and_count_every_change(store: CounterStore) -> None:
    assert await store.lists() == (0, {})
    await store.list_add("blocked_users", ["u1", "u2"])
    await store.list_add("blocked_users", ["u3"])
    await store.list_remove("blocked_users", ["u2", "never"])
    await store.list_add("vip", [])
    count, lists = await store.lists()
    assert count == 4
    assert lists == {"blocked_users": frozenset({"u1", "u3"}), "vip": frozenset()}


async def test_a_list_replace_sets_all_values_at_once(store: CounterStore) -> None:
    await store.list_add("l", ["a", "b"])
    await store.list_replace("l", [f"v{i}" for i in range(2500)])
    count, lists = await store.lists()
    assert (count, len(lists["l"]), "a" in lists["l"]) == (2, 2500, False)
    await store.list_replace("l", [])
    assert (await store.lists())[1] == {"l": frozenset()}


async def test_pause_and_resume(store: CounterStore) -> None:
    assert await store.paused() == (0, frozenset())
    await store.set_paused("spring-2026", "flash", True)
    await store.set_paused("spring-2026", "flash", True)  # pausing again changes nothing
    await store.set_paused("r.2", "other", True)
    assert (await store.paused())[1] == {("spring-2026", "flash"), ("r.2", "other")}
    await store.set_paused("r.2", "other", False)
    count, paused = await store.paused()
    assert count == 4 and paused == {("spring-2026", "flash")}


async def test_versions_are_numbered_and_one_is_active(store: CounterStore) -> None:
    assert await store.add_version("spring-2026", "ruleset v1", NOW) == 1
    assert await store.add_version("spring-2026", "ruleset v2", NOW + 5) == 2
    assert await store.add_version("a-first", "other", NOW) == 1
    await store.activate("spring-2026", 2)
    await store.activate("spring-2026", 1)
    assert await store.versions("spring-2026") == [
        Version("spring-2026", 1, "ruleset v1", NOW, True),
        Version("spring-2026", 2, "ruleset v2", NOW + 5, False),
    ]
    assert [(v.ruleset, v.number) for v in await store.versions()] == [
        ("a-first", 1), ("spring-2026", 1), ("spring-2026", 2),
    ]  # fmt: skip
    assert await store.versions("never") == []


async def test_active_versions_name_each_rulesets_active_number(store: CounterStore) -> None:
    assert await store.active_versions() == {}
    await store.add_version("spring-2026", "ruleset v1", NOW)
    await store.add_version("spring-2026", "ruleset v2", NOW)
    await store.add_version("draft-only", "never activated", NOW)
    await store.activate("spring-2026", 2)
    assert await store.active_versions() == {"spring-2026": 2}
    await store.activate("spring-2026", 1)  # a rollback
    assert await store.active_versions() == {"spring-2026": 1}
    active = {v.ruleset: v.number for v in await store.versions() if v.active}
    assert await store.active_versions() == active


async def test_activating_a_missing_version_fails(store: CounterStore) -> None:
    await store.add_version("r", "v1", NOW)
    with pytest.raises(ValueError, match="no version 2"):
        await store.activate("r", 2)


async def test_the_log_records_claims_redeems_and_reverts(store: CounterStore) -> None:
    new = coupon(face_value=3000)
    log = {"claim_id": "cl1", "user": "u1", "device": None, "ip": "1.2.3.4", "key": "k1",
           "type": "ignored", "time": 0}  # fmt: skip
    issued = outcome(coupons=[new], log={"reward": "c30", "codes": [new.code], "face_value": 3000})
    await store.claim(claim(key="k1", outcomes=[issued], log=log), NOW)
    await store.redeem(redeem(new.code, order="o1", log={"order": "forged", "note": 1}), NOW + 1)
    await store.revert(revert(new.code, log={"by": "ops"}), NOW + 2)
    entries = await store.log(SCOPE)
    where = {"ruleset": SCOPE.ruleset, "campaign": SCOPE.campaign}
    coupon_fields = {**where, "code": new.code, "reward": "c30", "user": "u1", "amount": 3000,
                     "order": "o1"}  # fmt: skip
    assert [{k: v for k, v in e.items() if k != "id"} for e in entries] == [
        {"type": "claim", "time": NOW, **where, "claim_id": "cl1", "user": "u1", "device": None,
         "ip": "1.2.3.4", "key": "k1", "reward": "c30", "codes": [new.code], "face_value": 3000},
        {"type": "redeem", "time": NOW + 1, **coupon_fields, "note": 1},
        {"type": "revert", "time": NOW + 2, **coupon_fields, "by": "ops"},
    ]  # fmt: skip


async def test_the_log_pages_by_id(store: CounterStore) -> None:
    for _ in range(5):
        await store.claim(claim(), NOW)
    everything = await store.log(SCOPE)
    first = await store.log(SCOPE, limit=2)
    rest = await store.log(SCOPE, after=first[-1]["id"])
    assert first + rest == everything and len(everything) == 5
    assert await store.log(SCOPE, after=everything[-1]["id"]) == []


async def test_the_log_is_per_campaign_even_when_a_tag_is_shared(store: CounterStore) -> None:
    # Two campaigns whose routing tags collide share a stream; reads keep them apart.
    other = Scope("spring-2026", "other", SCOPE.tag)
    for scope in (SCOPE, other, SCOPE, other, other):
        await store.claim(claim(scope=scope), NOW)
    assert len(await store.log(SCOPE, limit=1)) == 1
    assert [len(await store.log(s)) for s in (SCOPE, other)] == [2, 3]
    assert len(await store.log(other, limit=2)) == 2


async def test_a_lottery_entry_carries_the_draw(store: CounterStore) -> None:
    outcomes = [outcome("phone", 1, log={"reward": "phone"}), outcome("otherwise", 3)]
    await store.claim(claim(outcomes=outcomes, draw=draw(0.125, guarantee=0, after=9)), NOW)
    (entry,) = await store.log(SCOPE)
    assert entry["reward"] == "phone"
    assert entry["draw"] == {
        "u": 0.125,
        "weights": [1, 3],
        "outcome": 0,
        "prize": "phone",
        "pity": False,
    }


async def test_stats_add_up_per_campaign(store: CounterStore) -> None:
    await store.add_stats(SCOPE, {"user_limit": 2, "paused": 1})
    await store.add_stats(SCOPE, {"user_limit": 3})
    await store.add_stats(SCOPE, {})
    assert await store.stats(SCOPE) == {"user_limit": 5, "paused": 1}
    assert await store.stats(Scope("spring-2026", "other", "T02")) == {}


async def test_drop_empties_the_store(store: CounterStore) -> None:
    new = coupon()
    await store.claim(
        claim(key="k", checks=[limit("l:u", 1)], outcomes=[outcome(coupons=[new])]), NOW
    )
    await store.list_add("l", ["a"])
    await store.set_paused("r", "c", True)
    await store.add_version("r", "v1", NOW)
    await store.put_terms({"t1": "x"})
    await store.add_stats(SCOPE, {"ended": 1})
    await store.drop()
    assert await store.counters(SCOPE, ["l:u"]) == [0]
    assert await store.coupons([(new.code[:3], new.code)]) == {}
    assert (await store.lists(), await store.paused()) == ((0, {}), (0, frozenset()))
    assert (await store.versions(), await store.get_terms(["t1"])) == ([], {})
    assert (await store.log(SCOPE), await store.stats(SCOPE)) == ([], {})
    assert (await store.claim(claim(key="k", checks=[limit("l:u", 1)]), NOW)).status == "issued"


async def test_ping(store: CounterStore) -> None:
    await store.ping()
