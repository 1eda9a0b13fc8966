"""Ruleset versions through the engine (LANGUAGE.md 7.2, 7.6, 10.9), on both stores: a new
version replaces the old for later requests, issued coupons keep their terms, counters,
keys and pauses carry over, and a campaign id belongs to one loaded ruleset."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from dsl.compiler import compile_text
from dsl.errors import RuleError
from dsl.localtime import parse_instant
from engine.clock import FixedClock
from engine.engine import Engine
from engine.store.open import open_store
from tests.redis_server import RedisProcess

HEADER = 'ruleset "shop"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'
V1 = (
    HEADER
    + """
campaign deal {
    window 2026-11-01 .. 2026-11-30
    coupon c { value 30 off  min spend 199  valid 7d after claim  stock 3 }
    limit per user 5
    group wallet
}
"""
)
V2 = (
    HEADER
    + """
campaign deal {
    window 2026-11-01 .. 2026-11-30
    stage shop
    coupon c { value 50 off  min spend 100  valid 7d after claim  stock 4 }
    limit per user 5
    group wallet
}
"""
)
V3 = (
    HEADER
    + """
campaign other {
    window 2026-11-01 .. 2026-11-30
    discount { value 1 off }
}
"""
)
NOW = parse_instant("2026-11-10T10:00:00+08:00")


def cart(price: str) -> dict[str, object]:
    return {"items": [{"sku": "A", "price": price, "qty": 1}]}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    url = "memory"
    if request.param == "redis":
        server: RedisProcess = request.getfixturevalue("redis_server")
        url = server.url
    store = open_store(url, prefix=f"versions:{uuid.uuid4().hex[:8]}:", timeout=5.0)
    yield Engine(store, FixedClock(NOW))
    await store.drop()
    await store.close()


async def load(engine: Engine, text: str, file: str = "shop.promo") -> None:
    await engine.load(compile_text(text, file)[0])


async def test_issued_coupons_keep_their_terms_and_counters_carry_over(engine: Engine) -> None:
    await load(engine, V1)
    first = await engine.claim({"campaign": "deal", "user": "u1", "key": "k1"})
    await engine.claim({"campaign": "deal", "user": "u2"})
    await load(engine, V2)
    # The coupon issued under v1 keeps v1's terms: 30 off from 199.
    code = first["coupons"][0]["code"]
    below = await engine.redeem({"code": code, "user": "u1", "cart": cart("150.00")})
    assert below == {"status": "rejected", "reason": "below_min_spend", "replayed": False}
    used = await engine.redeem({"code": code, "user": "u1", "cart": cart("250.00")})
    assert used["amount"] == "30.00"
    # Later claims follow v2 (50 off), and v2's stock of 4 counts the 2 issued under v1.
    second = await engine.claim({"campaign": "deal", "user": "u3"})
    assert second["status"] == "issued"
    new_code = second["coupons"][0]["code"]
    redeemed = await engine.redeem({"code": new_code, "user": "u3", "cart": cart("120.00")})
    assert redeemed["amount"] == "50.00"
    assert (await engine.claim({"campaign": "deal", "user": "u4"}))["status"] == "issued"
    refused = await engine.claim({"campaign": "deal", "user": "u5"})
    assert refused == {"status": "rejected", "reason": "out_of_stock", "replayed": False}
    # Idempotency keys carry over too: the v1 claim replays unchanged.
    replay = await engine.claim({"campaign": "deal", "user": "u1", "key": "k1"})
    assert replay["replayed"] is True and replay["coupons"] == first["coupons"]


async def test_a_coupon_competes_in_its_campaigns_active_stage(engine: Engine) -> None:
    await load(engine, V1)
    claimed = await engine.claim({"campaign": "deal", "user": "u1"})
    code = claimed["coupons"][0]["code"]
    request = {"context": {"user": {"id": "u1"}, "cart": cart("300.00")}, "coupons": [code]}
    before = await engine.evaluate(request)
    assert [(d["stage"], d["amount"]) for d in before["discounts"]] == [("platform", "30.00")]
    await load(engine, V2)
    after = await engine.evaluate(request)
    assert [(d["stage"], d["amount"]) for d in after["discounts"]] == [("shop", "30.00")]
    # Gone from the active version: the stage of the version that issued it (v1's
    # platform, not v2's shop), after every active campaign; and still redeemable.
    await load(engine, V3)
    gone = await engine.evaluate(request)
    assert [(d["campaign"], d["stage"]) for d in gone["discounts"]] == [
        ("other", "platform"),
        ("deal", "platform"),
    ]
    assert (await engine.redeem({"code": code, "user": "u1", "cart": cart("300.00")}))[
        "status"
    ] == "redeemed"


async def test_pauses_outlive_versions(engine: Engine) -> None:
    await load(engine, V1)
    await engine.pause("deal")
    await load(engine, V2)
    assert (await engine.claim({"campaign": "deal", "user": "u1"}))["reason"] == "paused"
    await engine.resume("deal")
    assert (await engine.claim({"campaign": "deal", "user": "u1"}))["status"] == "issued"


async def test_a_campaign_id_belongs_to_one_loaded_ruleset(engine: Engine) -> None:
    await load(engine, V1)
    clash = V1.replace('"shop"', '"other-shop"')
    with pytest.raises(RuleError) as caught:
        await load(engine, clash, "other.promo")
    message = caught.value.errors[0].format()
    assert message.startswith("other.promo:5:10: error: duplicate campaign 'deal'")
    assert "(already loaded from shop.promo)" in message
    # Nothing of the clashing file was loaded: the original still answers.
    assert [r.id for r in engine.rulesets()] == ["shop"]
    assert (await engine.claim({"campaign": "deal", "user": "u1"}))["status"] == "issued"


async def test_a_coupon_from_a_version_another_process_loaded_still_redeems(
    engine: Engine,
) -> None:
    # Two engines on one store, as two workers: only the first ever loads v1.
    await load(engine, V1)
    claimed = await engine.claim({"campaign": "deal", "user": "u1"})
    code = claimed["coupons"][0]["code"]
    other = Engine(engine.store, FixedClock(NOW))
    await load(other, V2)
    below = await other.redeem({"code": code, "user": "u1", "cart": cart("150.00")})
    assert below["reason"] == "below_min_spend"  # v1's terms, read back from the store
    used = await other.redeem({"code": code, "user": "u1", "cart": cart("250.00")})
    assert used["amount"] == "30.00"
