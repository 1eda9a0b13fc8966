"""Engine.eligible: the campaigns whose rule checks pass are exactly those that evaluate
does not explain away with a rule-check reason (10.1 step 2), in evaluation order, on the
fast path (one ruleset in file order) and on the general one (every example loaded,
pauses, lists, referrals)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compiler import compile_text
from dsl.localtime import parse_instant
from engine.clock import FixedClock
from engine.engine import Engine
from engine.store.memory import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RULE_CHECKS = {"not_started", "ended", "outside_schedule", "paused", "not_eligible", "denied"}
INSTANTS = [
    "2026-01-07T10:00:00+08:00",  # a Wednesday of the year
    "2026-11-10T21:00:00+08:00",  # Singles' Day warm-up
    "2026-11-11T20:05:00+08:00",  # the flash drop
    "2026-11-12T09:00:00+08:00",
]


def engine_with(*names: str) -> Engine:
    engine = Engine(MemoryStore(), FixedClock(0))
    for name in names:
        path = EXAMPLES / name
        ruleset, _ = compile_text(path.read_text(encoding="utf-8"), str(path))
        asyncio.run(engine.load(ruleset))
    return engine


ALONE = engine_with("singles_day.promo")
EVERY = engine_with(*sorted(p.name for p in EXAMPLES.glob("*.promo")))

items = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["tv", "tea", "card", "socks"]),
        "price": st.sampled_from(["19.90", "128.00", "399.00", "2999.00"]),
        "qty": st.integers(1, 3),
        "category": st.sampled_from(["electronics", "grocery", "gift_card", "apparel"]),
        "shop": st.sampled_from(["acme_flagship", "teahouse", "platform"]),
        "attributes": st.fixed_dictionaries({"brand": st.sampled_from(["Acme", "Leaf"])}),
    }
)
users = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["u1", "u2", "blocked"]),
        "level": st.integers(0, 5),
        "tags": st.lists(st.sampled_from(["vip", "fraud", "new_user", "coupon_farmer"]),
                         unique=True, max_size=2),
        "risk_score": st.integers(0, 100),
        "registered_at": st.sampled_from(["2020-01-01T00:00:00Z", "2026-11-09T00:00:00Z"]),
        "phone_verified": st.booleans(),
    }
)  # fmt: skip
referrals = st.none() | st.fixed_dictionaries(
    {
        "event": st.sampled_from(["first_order", "signup"]),
        "inviter": st.sampled_from(["u1", "u2"]),
        "invitee": st.sampled_from(["u1", "friend", "blocked"]),
    }
)
contexts = st.builds(
    lambda user, channel, lines, referral: {
        "user": user,
        "device": {"id": "d1"},
        "ip": "203.0.113.9",
        "channel": channel,
        "cart": {"currency": "CNY", "items": lines},
        **({"referral": referral} if referral is not None else {}),
    },
    users,
    st.sampled_from(["app", "web", "pos"]),
    st.lists(items, min_size=1, max_size=4),
    referrals,
)


def expected(engine: Engine, context: dict[str, Any]) -> list[str]:
    """The campaigns of the cart's currency that evaluate does not refuse in step 2."""
    answer = asyncio.run(engine.evaluate({"context": context, "explain": True}, claimable=False))
    refused = {e["campaign"] for e in answer["explanations"] if e["reason"] in RULE_CHECKS}
    order = [loaded.campaign.id for loaded in engine.registry.in_currency("CNY")]
    return [campaign for campaign in order if campaign not in refused]


async def _setup(engine: Engine, paused: list[str], blocked: bool) -> None:
    for campaign in [loaded.campaign.id for loaded in engine.registry.in_currency("CNY")]:
        await (engine.pause(campaign) if campaign in paused else engine.resume(campaign))
    await engine.list_replace("blocked_users", ["blocked"] if blocked else [])
    await engine.list_replace("farmers", ["blocked"] if blocked else [])


@settings(max_examples=150, deadline=None)
@given(
    context=contexts,
    instant=st.sampled_from(INSTANTS),
    every=st.booleans(),
    paused=st.lists(
        st.sampled_from(["sd_tiers", "sd_flash", "mw_gold", "friend_reward", "home_300"]),
                    max_size=2),
    blocked=st.booleans(),
)  # fmt: skip
def test_eligible_is_what_evaluate_does_not_refuse(
    context: dict[str, Any], instant: str, every: bool, paused: list[str], blocked: bool
) -> None:
    engine = EVERY if every else ALONE
    assert isinstance(engine.clock, FixedClock)
    engine.clock.set(parse_instant(instant))
    asyncio.run(_setup(engine, paused, blocked))
    assert asyncio.run(engine.eligible(context)) == expected(engine, context)


def test_some_contexts_are_eligible_and_some_are_not() -> None:
    """The property above is not vacuous: the fast path selects some campaigns, not all."""
    engine = ALONE
    assert isinstance(engine.clock, FixedClock)
    engine.clock.set(parse_instant("2026-11-11T20:05:00+08:00"))
    asyncio.run(_setup(engine, [], blocked=False))
    tv = {"sku": "tv", "price": "2999.00", "qty": 1, "category": "electronics",
          "shop": "acme_flagship", "attributes": {"brand": "Acme"}}  # fmt: skip
    cart = {"currency": "CNY", "items": [tv]}
    good = {"user": {"id": "u1", "risk_score": 1}, "channel": "app", "cart": cart}
    risky = {"user": {"id": "u1", "risk_score": 99}, "channel": "app", "cart": cart}
    assert asyncio.run(engine.eligible(good)) == ["sd_tiers", "sd_brand", "sd_flash"]
    assert asyncio.run(engine.eligible(risky)) == ["sd_brand"]
