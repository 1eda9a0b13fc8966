"""Evaluate's preview of what a user could claim (LANGUAGE.md 10.1 step 3) says what the
claim itself would answer: for random claims by a few users, devices and IPs over a few
days, the preview taken just before each claim (same context, same second) is `available`
exactly when the claim issues, and otherwise gives the claim's refusal."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from dsl.compiler import compile_text
from dsl.localtime import parse_instant
from engine.clock import FixedClock
from engine.engine import Engine
from engine.store.memory import MemoryStore

RULES = """
ruleset "preview"
timezone "Asia/Shanghai"
currency CNY

campaign grab {
    window 2026-11-01 .. 2026-11-30
    coupon g10 { value 10 off  valid 1d after claim  stock 6 per day  limit per user 1 per day }
    coupon g20 { value 20 off  min spend 100  valid 3d after claim  budget 100 }
    budget 150
    limit per user 3 per day
    limit per device 4
    limit per ip 5 per 1h
}

campaign starter {
    window 2026-11-01 .. 2026-11-30
    pack starter {
        coupon s5 { value 5 off  valid 7d after claim }
        coupon s15 { value 15 off  min spend 99  valid 7d after claim }
        stock 3
    }
    limit per user 1
}

campaign wheel {
    window 2026-11-01 .. 2026-11-30
    lottery {
        prize mug "Mug" weight 3 stock 1 per day
        prize c30 coupon { value 30 off  min spend 120  valid 3d after claim } weight 2 stock 3
        guarantee c30 after 2 misses
    }
    budget 30 per day
    limit per user 4 per day
    limit per device 6 per day
}
"""
REWARDS = [("grab", "g10"), ("grab", "g20"), ("starter", "starter"), ("wheel", None)]
START = parse_instant("2026-11-10T10:00:00+08:00")


class PreviewThenClaim(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock(START)
        self.engine = Engine(MemoryStore(), self.clock, seed=5)
        self.loop.run_until_complete(self.engine.load(compile_text(RULES)[0]))

    def teardown(self) -> None:
        self.loop.close()

    @rule(
        which=st.sampled_from(REWARDS),
        user=st.sampled_from(["u1", "u2", "u3"]),
        device=st.sampled_from(["d1", "d2"]),
        ip=st.sampled_from(["203.0.113.1", "203.0.113.2"]),
    )
    def claim(self, which: tuple[str, str | None], user: str, device: str, ip: str) -> None:
        campaign, reward = which
        context = {"user": {"id": user}, "device": {"id": device}, "ip": ip, "cart": {"items": []}}
        answer = self.loop.run_until_complete(self.engine.evaluate({"context": context}))
        [entry] = [
            e
            for e in answer["claimable"]
            if e["campaign"] == campaign and e.get("reward") == reward
        ]
        request: dict[str, Any] = {"campaign": campaign, "user": user, "device": device, "ip": ip}
        if reward is not None:
            request["reward"] = reward
        result = self.loop.run_until_complete(self.engine.claim(request))
        assert entry["available"] == (result["status"] == "issued"), (entry, result)
        if not entry["available"]:
            assert entry["reason"] == result["reason"], (entry, result)

    @rule(seconds=st.sampled_from([1, 1800, 3600, 86_400]))
    def tick(self, seconds: int) -> None:
        self.clock.advance(seconds)


def test_the_preview_of_a_claim_is_what_the_claim_answers() -> None:
    run_state_machine_as_test(
        PreviewThenClaim,
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
