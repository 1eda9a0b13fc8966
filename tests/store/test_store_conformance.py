"""Claims on both stores (engine/store/__init__.py ClaimStep; LANGUAGE.md 8, 10.2, 10.3).

Every test takes `store`, so it runs once on MemoryStore and once on RedisStore.
"""

from __future__ import annotations

import asyncio

import pytest

from engine.store import ClaimResult, CounterStore
from tests.store.builders import NOW, SCOPE, claim, code, coupon, limit, outcome


async def test_an_issued_claim_adds_its_counters(store: CounterStore) -> None:
    step = claim(checks=[limit("l:u", 2), limit("s:c30", 10, "out_of_stock")])
    result = await store.claim(step, NOW)
    assert result == ClaimResult("issued", result=step.outcomes[0].result, outcome=0)
    assert await store.counters(SCOPE, ["l:u", "s:c30", "never"]) == [1, 1, 0]


@pytest.mark.parametrize(
    ("full", "reason"),
    [
        ("l:user", "user_limit"),
        ("l:device", "device_limit"),
        ("l:ip", "ip_limit"),
        ("s:c30", "out_of_stock"),
        ("b:*", "budget_exhausted"),
    ],
)
async def test_the_first_counter_without_room_decides(
    store: CounterStore, full: str, reason: str
) -> None:
    order = [("l:user", "user_limit"), ("l:device", "device_limit"), ("l:ip", "ip_limit"),
             ("s:c30", "out_of_stock"), ("b:*", "budget_exhausted")]  # fmt: skip
    start = [k for k, _ in order].index(full)
    # The counter `full` and every later one are used up; only the first of them counts.
    for key, _ in order[start:]:
        await store.claim(claim(checks=[limit(key, 1)]), NOW)
    checks = [limit(k, 1, r) for k, r in order]
    before = await store.counters(SCOPE, [k for k, _ in order])
    assert await store.claim(claim(checks=checks), NOW) == ClaimResult("rejected", reason)
    assert await store.counters(SCOPE, [k for k, _ in order]) == before  # nothing moved


async def test_a_budget_counts_face_value(store: CounterStore) -> None:
    # LANGUAGE.md 8.3: `value 30 off` and `budget 100`: three coupons, the fourth is refused.
    budget = limit("b:*:all", 10000, "budget_exhausted", amount=3000)
    results = [await store.claim(claim(checks=[budget]), NOW) for _ in range(4)]
    assert [r.status for r in results] == ["issued"] * 3 + ["rejected"]
    assert results[3].reason == "budget_exhausted"
    assert await store.counters(SCOPE, ["b:*:all"]) == [9000]


async def test_counters_carry_across_steps_and_limits(store: CounterStore) -> None:
    # A new version raising the stock from 2 to 3 finds the 2 already issued (10.9).
    for _ in range(2):
        assert (
            await store.claim(claim(checks=[limit("s:x", 2, "out_of_stock")]), NOW)
        ).status == "issued"
    assert (
        await store.claim(claim(checks=[limit("s:x", 2, "out_of_stock")]), NOW)
    ).reason == "out_of_stock"
    assert (
        await store.claim(claim(checks=[limit("s:x", 3, "out_of_stock")]), NOW)
    ).status == "issued"
    assert await store.counters(SCOPE, ["s:x"]) == [3]


async def test_a_key_named_twice_counts_both_amounts(store: CounterStore) -> None:
    twice = [limit("b:x", 5000, "budget_exhausted", amount=3000)] * 2
    assert await store.claim(claim(checks=twice), NOW) == ClaimResult(
        "rejected", "budget_exhausted"
    )
    assert await store.counters(SCOPE, ["b:x"]) == [0]


async def test_a_limit_of_zero_never_has_room(store: CounterStore) -> None:
    # engine/quotas.py: an unknown device is a counter of size 0.
    step = claim(checks=[limit("l:none:device", 0, "device_limit")])
    assert await store.claim(step, NOW) == ClaimResult("rejected", "device_limit")


async def test_the_only_outcome_needs_room_in_its_own_counters(store: CounterStore) -> None:
    stock = limit("s:pack", 1, "out_of_stock")
    first = await store.claim(claim(outcomes=[outcome(counters=[stock], coupons=[coupon()])]), NOW)
    again = await store.claim(claim(outcomes=[outcome(counters=[stock], coupons=[coupon()])]), NOW)
    assert (first.status, again) == ("issued", ClaimResult("rejected", "out_of_stock"))


async def test_a_code_that_exists_is_code_taken_and_changes_nothing(store: CounterStore) -> None:
    taken = code()
    await store.claim(claim(outcomes=[outcome(coupons=[coupon(taken)])]), NOW)
    step = claim(user="u2", key="k", checks=[limit("l:u2", 1)],
                 outcomes=[outcome(coupons=[coupon(), coupon(taken)])])  # fmt: skip
    assert await store.claim(step, NOW) == ClaimResult("code_taken")
    assert await store.counters(SCOPE, ["l:u2"]) == [0]
    assert (await store.coupons([("T01", taken)]))[taken].owner == "u1"
    # Nothing was stored under the key: the engine's retry with fresh codes issues.
    retry = claim(user="u2", key="k", checks=[limit("l:u2", 1)])
    assert (await store.claim(retry, NOW)).status == "issued"


async def test_a_pack_stores_every_coupon_with_its_owner(store: CounterStore) -> None:
    coupons = [coupon(reward="a", face_value=1000), coupon(reward="b", terms="t2", face_value=0)]
    await store.claim(claim(user="u9", outcomes=[outcome(coupons=coupons)]), NOW)
    found = await store.coupons([("T01", c.code) for c in coupons] + [("T01", "T01NOPE")])
    assert sorted(found) == sorted(c.code for c in coupons)
    record = found[coupons[1].code]
    assert (record.owner, record.reward, record.terms, record.face_value) == ("u9", "b", "t2", 0)
    assert (record.ruleset, record.campaign, record.state) == (
        SCOPE.ruleset,
        SCOPE.campaign,
        "issued",
    )
    assert (record.valid_from, record.valid_until, record.order, record.amount) == (
        NOW,
        NOW + 86_400,
        None,
        None,
    )


async def test_a_key_replays_the_issued_result_and_counts_nothing(store: CounterStore) -> None:
    checks = [limit("l:u", 1)]
    first = await store.claim(claim(key="k1", checks=checks), NOW)
    # The limit is used up, yet the same key gets the original result back.
    again = await store.claim(claim(key="k1", checks=checks), NOW + 999)
    assert again == ClaimResult("replayed", result=first.result)
    assert await store.counters(SCOPE, ["l:u"]) == [1]
    assert len(await store.log(SCOPE)) == 1


async def test_a_key_with_another_fingerprint_is_key_reused(store: CounterStore) -> None:
    await store.claim(claim(key="k1", fingerprint="c30|d1|ip"), NOW)
    assert await store.claim(claim(key="k1", fingerprint="c30|d2|ip"), NOW) == ClaimResult(
        "key_reused"
    )


async def test_keys_belong_to_the_user_and_the_campaign(store: CounterStore) -> None:
    await store.claim(claim("u1", key="k1"), NOW)
    assert (await store.claim(claim("u2", key="k1"), NOW)).status == "issued"
    # A user id containing ':' cannot collide with another (user, key) pair.
    assert (await store.claim(claim("a:b", key="c"), NOW)).status == "issued"
    assert (await store.claim(claim("a", key="b:c"), NOW)).status == "issued"


async def test_a_refused_claim_is_not_stored_under_its_key(store: CounterStore) -> None:
    refused = await store.claim(claim(key="k1", checks=[limit("l:u", 0)]), NOW)
    assert refused == ClaimResult("rejected", "user_limit")
    assert (await store.claim(claim(key="k1", checks=[limit("l:u", 1)]), NOW)).status == "issued"


async def test_a_rule_refusal_changes_nothing(store: CounterStore) -> None:
    assert await store.claim(claim(refusal="paused", checks=[limit("l:u", 5)]), NOW) == ClaimResult(
        "rejected", "paused"
    )
    assert await store.claim(claim(key="k", refusal="ended"), NOW) == ClaimResult(
        "rejected", "ended"
    )
    assert await store.counters(SCOPE, ["l:u"]) == [0]
    assert await store.log(SCOPE) == []


async def test_a_stored_replay_wins_over_a_refusal(store: CounterStore) -> None:
    # 10.2 step 1: the original result, whatever the window, the pause or the rules say now.
    first = await store.claim(claim(key="k1"), NOW)
    assert await store.claim(claim(key="k1", refusal="ended"), NOW) == ClaimResult(
        "replayed", result=first.result
    )
    changed = claim(key="k1", refusal="ended", fingerprint="other")
    assert await store.claim(changed, NOW) == ClaimResult("key_reused")


async def test_concurrent_claims_never_exceed_a_stock(store: CounterStore) -> None:
    # 10.3: with stock 10 and 60 simultaneous claims, exactly 10 are issued.
    stock = limit("s:c30", 10, "out_of_stock")
    steps = [claim(f"u{i}", checks=[stock]) for i in range(60)]
    results = await asyncio.gather(*(store.claim(s, NOW) for s in steps))
    assert sum(r.status == "issued" for r in results) == 10
    assert await store.counters(SCOPE, ["s:c30"]) == [10]


async def test_concurrent_claims_with_one_key_issue_once(store: CounterStore) -> None:
    steps = [claim(key="same", checks=[limit("l:u", 100)]) for _ in range(20)]
    results = await asyncio.gather(*(store.claim(s, NOW) for s in steps))
    assert sorted(r.status for r in results) == ["issued"] + ["replayed"] * 19
    assert await store.counters(SCOPE, ["l:u"]) == [1]


async def test_amounts_stay_exact_below_2_to_53(store: CounterStore) -> None:
    big = 2**53 - 1
    budget = [limit("b:big", big, "budget_exhausted", amount=2**52 + 1)]
    assert (await store.claim(claim(checks=budget), NOW)).status == "issued"
    rest = [limit("b:big", big, "budget_exhausted", amount=2**52 - 2)]
    assert (await store.claim(claim(checks=rest), NOW)).status == "issued"
    assert await store.counters(SCOPE, ["b:big"]) == [big]
    one = [limit("b:big", big, "budget_exhausted", amount=1)]
    assert (await store.claim(claim(checks=one), NOW)).reason == "budget_exhausted"
