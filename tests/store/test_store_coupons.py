"""Redeem and revert on both stores (RedeemStep, RevertStep; LANGUAGE.md 10.4, 10.5)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from engine.store import CounterStore, CouponRecord, RedeemResult, RevertResult
from tests.store.builders import NOW, SCOPE, claim, code, coupon, limit, outcome, redeem, revert

DAY = 86_400


async def issue(store: CounterStore, user: str = "u1", *, terms: str = "t1") -> CouponRecord:
    new = coupon(terms=terms)
    await store.claim(claim(user, outcomes=[outcome(coupons=[new])]), NOW)
    return (await store.coupons([(new.code[:3], new.code)]))[new.code]


async def test_an_unknown_code(store: CounterStore) -> None:
    assert await store.redeem(redeem(code()), NOW) == RedeemResult("rejected", "unknown_code")
    assert await store.revert(revert(code()), NOW) == RevertResult("rejected", "unknown_code")


async def test_a_redeem_marks_the_coupon_redeemed(store: CounterStore) -> None:
    record = await issue(store)
    result = await store.redeem(redeem(record.code, order="o1", verdicts={"t1": "2500"}), NOW)
    redeemed = replace(record, state="redeemed", order="o1", amount=2500)
    assert result == RedeemResult("redeemed", amount=2500, coupon=redeemed)
    assert (await store.coupons([(record.code[:3], record.code)]))[record.code] == redeemed


@pytest.mark.parametrize(
    ("user", "at", "verdicts", "reason"),
    [
        ("u2", NOW, {"t1": "100"}, "not_owner"),
        ("u1", NOW - 1, {"t1": "100"}, "not_yet_valid"),
        ("u1", NOW + DAY + 1, {"t1": "100"}, "expired"),
        ("u1", NOW, {"t1": "no_applicable_items"}, "no_applicable_items"),
        ("u1", NOW, {"t1": "below_min_spend", "t2": "100"}, "below_min_spend"),
    ],
)
async def test_redeem_refusals_in_order(
    store: CounterStore, user: str, at: int, verdicts: dict[str, str], reason: str
) -> None:
    record = await issue(store)
    result = await store.redeem(redeem(record.code, user, verdicts=verdicts), at)
    assert result == RedeemResult("rejected", reason, coupon=record)
    assert (await store.coupons([(record.code[:3], record.code)]))[record.code].state == "issued"


async def test_valid_until_is_included(store: CounterStore) -> None:
    record = await issue(store)
    assert (await store.redeem(redeem(record.code), NOW + DAY)).status == "redeemed"


async def test_the_owner_check_comes_before_validity(store: CounterStore) -> None:
    record = await issue(store)
    assert (await store.redeem(redeem(record.code, "u2"), NOW - 1)).reason == "not_owner"


async def test_terms_missing_from_verdicts_need_terms_with_the_record(store: CounterStore) -> None:
    record = await issue(store, terms="t9")
    result = await store.redeem(redeem(record.code, verdicts={"t1": "100"}), NOW)
    assert result == RedeemResult("need_terms", coupon=record)
    assert (await store.redeem(redeem(record.code, verdicts={"t9": "700"}), NOW)).amount == 700


async def test_a_second_redeem_is_already_redeemed_unless_the_same_order(
    store: CounterStore,
) -> None:
    record = await issue(store)
    first = await store.redeem(redeem(record.code, order="o1", verdicts={"t1": "3000"}), NOW)
    # A retried checkout gets the same answer, whatever the cart says now.
    again = await store.redeem(redeem(record.code, order="o1", verdicts={"t1": "5"}), NOW + 5 * DAY)
    assert again == RedeemResult("replayed", amount=3000, coupon=first.coupon)
    assert (await store.redeem(redeem(record.code, order="o2"), NOW)).reason == "already_redeemed"
    assert (await store.redeem(redeem(record.code), NOW)).reason == "already_redeemed"
    assert (await store.redeem(redeem(record.code, "u2", order="o1"), NOW)).reason == "not_owner"


async def test_a_redeem_without_order_is_never_a_replay(store: CounterStore) -> None:
    record = await issue(store)
    await store.redeem(redeem(record.code), NOW)
    assert (await store.redeem(redeem(record.code), NOW)).reason == "already_redeemed"


async def test_of_two_concurrent_redeems_one_wins(store: CounterStore) -> None:
    record = await issue(store)
    steps = [redeem(record.code, order=f"o{i}") for i in range(10)]
    results = await asyncio.gather(*(store.redeem(s, NOW) for s in steps))
    assert sorted(r.status for r in results) == ["redeemed"] + ["rejected"] * 9


async def test_a_revert_makes_the_coupon_usable_again(store: CounterStore) -> None:
    record = await issue(store)
    assert await store.revert(revert(record.code), NOW) == RevertResult(
        "rejected", "not_redeemed", record
    )
    await store.redeem(redeem(record.code, order="o1"), NOW)
    assert await store.revert(revert(record.code), NOW) == RevertResult("reverted", coupon=record)
    assert (await store.revert(revert(record.code), NOW)).reason == "not_redeemed"
    again = await store.redeem(redeem(record.code, order="o2", verdicts={"t1": "10"}), NOW)
    assert (again.status, again.amount) == ("redeemed", 10)


async def test_a_revert_keeps_validity_and_returns_no_stock(store: CounterStore) -> None:
    new = coupon()
    await store.claim(
        claim(checks=[limit("s:c30", 1, "out_of_stock")], outcomes=[outcome(coupons=[new])]), NOW
    )
    await store.redeem(redeem(new.code), NOW)
    await store.revert(revert(new.code), NOW + 2 * DAY)
    assert await store.counters(SCOPE, ["s:c30"]) == [1]
    assert (await store.redeem(redeem(new.code), NOW + 2 * DAY)).reason == "expired"


async def test_coupons_reads_only_existing_records(store: CounterStore) -> None:
    a, b = await issue(store), await issue(store, "u2")
    missing = code()
    found = await store.coupons(
        [(a.code[:3], a.code), (b.code[:3], b.code), (missing[:3], missing)]
    )
    assert found == {a.code: a, b.code: b}
    assert await store.coupons([]) == {}
