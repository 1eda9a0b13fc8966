"""The engine on MemoryStore and on RedisStore, side by side (issue #3): random claims,
redeems, reverts, list changes, pauses and clock steps must give identical results and
identical counters on both stores.

Codes and claim ids are random, so each engine's own codes are paired by the claim that
issued them and results are compared with them replaced by their pair's index.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from dsl.compiler import compile_text
from dsl.localtime import parse_instant
from engine.clock import FixedClock
from engine.engine import Engine
from engine.errors import RequestError
from engine.store.open import open_store
from tests.redis_server import RedisProcess

pytestmark = pytest.mark.redis

RULES = """
ruleset "sidebyside"
timezone "Asia/Shanghai"
currency CNY

campaign grab {
    window 2026-11-01 .. 2026-11-30
    deny when user.id in list "blocked"
    coupon g10 { value 10 off  min spend 50  valid 1d after claim  stock 6 per day }
    coupon g20 { value 20 off  min spend 100  on items where item.category == "shoes" }
    budget 200
    limit per user 2 per day
    limit per device 3
    limit per ip 4 per 1h
}

campaign welcome {
    window 2026-11-01 .. 2026-11-30
    pack starter {
        coupon s5 { value 5 off  valid 7d after claim }
        coupon s15 { value 15 off  min spend 99  valid 7d after claim }
        stock 5
    }
    limit per user 1
}

campaign wheel {
    window 2026-11-01 .. 2026-11-30
    daily 09:00 .. 21:00
    lottery {
        prize mug "Mug" weight 3 stock 2 per day
        prize c30 coupon { value 30 off  min spend 120  valid 3d after claim } weight 2 stock 3
        prize pts points 5 weight 5
        otherwise "Thanks" weight 4
        guarantee c30 after 3 misses
    }
    budget 60
    limit per user 6 per day
}
"""
START = parse_instant("2026-11-10T10:00:00+08:00")
USERS = ["u1", "u2", "u3", "u4"]
CARTS = [
    {"items": [{"sku": "A", "category": "shoes", "price": "150.00", "qty": 1}]},
    {"items": [{"sku": "B", "category": "bags", "price": "60.00", "qty": 1}]},
    {"shipping": "8.00", "items": [{"sku": "C", "category": "toys", "price": "20.00", "qty": 2}]},
]
REDIS_URL: dict[str, str] = {}


class SideBySide(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clocks = [FixedClock(START), FixedClock(START)]
        prefix = f"sbs:{uuid.uuid4().hex[:10]}:"
        self.stores = [open_store("memory"), open_store(REDIS_URL["url"], prefix=prefix, timeout=5)]
        self.engines = [
            Engine(s, c, seed=11) for s, c in zip(self.stores, self.clocks, strict=True)
        ]
        compiled = compile_text(RULES)[0]
        for engine in self.engines:
            self.loop.run_until_complete(engine.load(compiled))
        self.codes: list[tuple[str, str]] = []  # (memory code, redis code) per issued coupon

    def teardown(self) -> None:
        for store in self.stores:
            self.loop.run_until_complete(store.drop())
            self.loop.run_until_complete(store.close())
        self.loop.close()

    def both(self, call: Any, *requests: Any) -> list[Any]:
        """Run the same operation on each engine (with its own request) and return both
        outcomes, a RequestError being an outcome."""
        outcomes = []
        for engine, request in zip(self.engines, requests, strict=True):
            try:
                outcomes.append(self.loop.run_until_complete(call(engine, request)))
            except RequestError as exc:
                outcomes.append(("error", exc.code))
        return outcomes

    def same(self, outcomes: list[Any]) -> None:
        memory, redis = (self.normalised(o, side) for side, o in enumerate(outcomes))
        assert memory == redis

    def normalised(self, outcome: Any, side: int) -> Any:
        if not isinstance(outcome, dict):
            return outcome
        text = repr(sorted(outcome.items()))
        for index, pair in enumerate(self.codes):
            text = text.replace(pair[side], f"<code {index}>")
        if "claim_id" in outcome:
            text = text.replace(outcome["claim_id"], "<claim>")
        return text

    @rule(
        campaign=st.sampled_from(["grab", "welcome", "wheel"]),
        reward=st.sampled_from([None, "g10", "g20"]),
        user=st.sampled_from(USERS),
        device=st.sampled_from([None, "d1", "d2"]),
        ip=st.sampled_from([None, "203.0.113.1", "2001:db8:1:2::7", "2001:db8:1:2::9"]),
        key=st.sampled_from([None, "k1", "k2"]),
    )
    def claim(
        self, campaign: str, reward: str | None, user: str, device: str | None, ip: str | None,
        key: str | None,
    ) -> None:  # fmt: skip
        request: dict[str, Any] = {"campaign": campaign, "user": user}
        if campaign == "grab":
            request["reward"] = reward or "g10"
        optional = {"device": device, "ip": ip, "key": key}
        request.update({name: value for name, value in optional.items() if value is not None})
        outcomes = self.both(lambda e, r: e.claim(r), request, request)
        fresh = [o for o in outcomes if isinstance(o, dict) and o.get("replayed") is False]
        if len(fresh) == 2 and outcomes[0]["status"] == "issued":
            pairs = zip(outcomes[0]["coupons"], outcomes[1]["coupons"], strict=True)
            self.codes += [(m["code"], r["code"]) for m, r in pairs]
        self.same(outcomes)

    @rule(
        pick=st.integers(0, 40),
        user=st.sampled_from(USERS),
        cart=st.sampled_from(CARTS),
        order=st.sampled_from([None, "o1", "o2"]),
    )
    def redeem(self, pick: int, user: str, cart: dict[str, Any], order: str | None) -> None:
        codes = self.codes[pick % len(self.codes)] if self.codes else ("NOSUCHCODE", "NOSUCHCODE")
        requests = [{"code": c, "user": user, "cart": cart} for c in codes]
        for request in requests:
            if order is not None:
                request["order"] = order
        self.same(self.both(lambda e, r: e.redeem(r), *requests))

    @rule(pick=st.integers(0, 40))
    def revert(self, pick: int) -> None:
        codes = self.codes[pick % len(self.codes)] if self.codes else ("NOSUCHCODE", "NOSUCHCODE")
        self.same(self.both(lambda e, r: e.revert({"code": r}), *codes))

    @rule(user=st.sampled_from(USERS), cart=st.sampled_from(CARTS), coupons=st.integers(0, 3))
    def evaluate(self, user: str, cart: dict[str, Any], coupons: int) -> None:
        chosen = self.codes[-coupons:] if coupons else []
        requests = [
            {"context": {"user": {"id": user}, "cart": cart}, "explain": True,
             "coupons": [pair[side] for pair in chosen]}
            for side in (0, 1)
        ]  # fmt: skip
        self.same(self.both(lambda e, r: e.evaluate(r), *requests))

    @rule(add=st.booleans(), user=st.sampled_from(USERS))
    def blocklist(self, add: bool, user: str) -> None:
        for engine in self.engines:
            change = engine.list_add if add else engine.list_remove
            self.loop.run_until_complete(change("blocked", [user]))

    @rule(pause=st.booleans(), campaign=st.sampled_from(["grab", "wheel"]))
    def pause(self, pause: bool, campaign: str) -> None:
        for engine in self.engines:
            self.loop.run_until_complete((engine.pause if pause else engine.resume)(campaign))

    @rule(seconds=st.sampled_from([1, 59, 600, 3600, 6 * 3600, 86_400]))
    def tick(self, seconds: int) -> None:
        for clock in self.clocks:
            clock.advance(seconds)

    @invariant()
    def counters_agree(self) -> None:
        for campaign in ("grab", "welcome", "wheel"):
            counts = []
            for engine in self.engines:
                self.loop.run_until_complete(engine.stats.flush())
                counts.append(self.loop.run_until_complete(engine.counters(campaign)))
            assert counts[0] == counts[1]


def test_memory_and_redis_stores_agree_through_the_engine(redis_server: RedisProcess) -> None:
    REDIS_URL["url"] = redis_server.url
    run_state_machine_as_test(
        SideBySide,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
