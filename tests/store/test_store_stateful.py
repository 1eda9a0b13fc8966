"""MemoryStore and RedisStore side by side under random steps: every result, counter,
record, list, pause state and log entry must be the same (hypothesis stateful testing)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from engine.store import ClaimStep, Counter, CounterStore, Draw, NewCoupon, Outcome, Scope
from engine.store.memory import MemoryStore
from engine.store.open import open_store
from tests.redis_server import RedisProcess
from tests.store.builders import NOW, claim, outcome, redeem, revert
from tests.store.conftest import unique_prefix

T = TypeVar("T")
pytestmark = [pytest.mark.redis, pytest.mark.slow]

# Two campaigns share tag T01 (a routing-tag collision); a third has its own.
SCOPES = [Scope("r1", "a", "T01"), Scope("r1", "b", "T01"), Scope("r2", "c", "T02")]
USERS = ["u1", "u2", "u3"]
COUNTER_KEYS = ["l:u1", "l:u2", "l:u3", "s:c30", "b:all", "s:phone", "p:u1", "p:u2", "p:u3"]


class StoresAgree(RuleBasedStateMachine):
    def __init__(self, runner: asyncio.Runner, url: str) -> None:
        super().__init__()
        self.runner = runner
        self.stores: list[CounterStore] = [
            MemoryStore(),
            open_store(url, prefix=unique_prefix(), timeout=5.0),
        ]
        self.now = NOW
        self.codes: list[str] = []
        self.serial = itertools.count()

    def both(self, call: Callable[[CounterStore], Coroutine[Any, Any, T]]) -> T:
        memory = self.runner.run(call(self.stores[0]))
        redis = self.runner.run(call(self.stores[1]))
        assert memory == redis
        return memory

    def teardown(self) -> None:
        for store in self.stores:
            self.runner.run(store.drop())
            self.runner.run(store.close())

    def new_code(self, scope: Scope, reuse: bool) -> str:
        if reuse and self.codes:
            return self.codes[-1]  # an existing code: code_taken
        code = f"{scope.tag}{next(self.serial):016d}Z"
        self.codes.append(code)
        return code

    def coupon(self, scope: Scope, reuse: bool, face: int) -> NewCoupon:
        return NewCoupon(self.new_code(scope, reuse), "c30", "t1", self.now, self.now + 100, face)

    @rule(
        scope=st.sampled_from(SCOPES),
        user=st.sampled_from(USERS),
        key=st.sampled_from([None, "k1", "k2"]),
        fingerprint=st.sampled_from(["f1", "f2"]),
        refusal=st.sampled_from([None, None, None, "paused"]),
        face=st.sampled_from([0, 3000, 5000]),
        reuse=st.booleans(),
        pack=st.booleans(),
    )
    def claim_coupon(
        self, scope: Scope, user: str, key: str | None, fingerprint: str, refusal: str | None,
        face: int, reuse: bool, pack: bool,
    ) -> None:  # fmt: skip
        coupons = [self.coupon(scope, reuse and not pack, face) for _ in range(2 if pack else 1)]
        checks = [Counter(f"l:{user}", 2, 1, "user_limit"), Counter("s:c30", 6, 1, "out_of_stock"),
                  Counter("b:all", 20000, face, "budget_exhausted")]  # fmt: skip
        step = claim(user, key=key, fingerprint=fingerprint, refusal=refusal, checks=checks,
                     outcomes=[outcome(coupons=coupons)], scope=scope, log=self.log())  # fmt: skip
        self.both(lambda store: store.claim(step, self.now))

    def log(self) -> dict[str, Any]:
        return {"n": next(self.serial), "device": None}

    @rule(
        scope=st.sampled_from(SCOPES), user=st.sampled_from(USERS),
        key=st.sampled_from([None, "k1"]), u=st.floats(0, 1, exclude_max=True),
        weights=st.lists(st.integers(0, 5), min_size=3, max_size=3),
        otherwise=st.none() | st.integers(0, 5), guarantee=st.none() | st.integers(0, 2),
        after=st.integers(0, 3),
    )  # fmt: skip
    def claim_lottery(
        self, scope: Scope, user: str, key: str | None, u: float, weights: list[int],
        otherwise: int | None, guarantee: int | None, after: int,
    ) -> None:  # fmt: skip
        step = self.lottery(scope, user, key, weights, otherwise)
        draw = Draw(u, otherwise is not None, guarantee, after, f"p:{user}")
        step = claim(user, key=key, checks=step.checks, outcomes=step.outcomes, draw=draw,
                     scope=scope, log=self.log())  # fmt: skip
        self.both(lambda store: store.claim(step, self.now))

    def lottery(self, scope: Scope, user: str, key: str | None, weights: list[int],
                otherwise: int | None) -> ClaimStep:  # fmt: skip
        budget = Counter("b:all", 20000, 5000, "budget_exhausted")
        outcomes: list[Outcome] = [
            outcome("phone", weights[0], counters=[Counter("s:phone", 2, 1, "out_of_stock")]),
            outcome("c50", weights[1], budget=[budget], coupons=[self.coupon(scope, False, 5000)]),
            outcome("pts", weights[2], budget=[Counter("b:all", 20000, 0, "budget_exhausted")]),
        ]
        if otherwise is not None:
            outcomes.append(outcome("otherwise", otherwise))
        return claim(
            user, key=key, checks=[Counter(f"l:{user}", 4, 1, "user_limit")], outcomes=outcomes
        )

    @rule(
        pick=st.integers(0, 50),
        user=st.sampled_from(USERS),
        order=st.sampled_from([None, "o1", "o2"]),
        verdicts=st.sampled_from([{"t1": "1000"}, {"t1": "below_min_spend"}, {}, {"t1": "0"}]),
    )
    def redeem(self, pick: int, user: str, order: str | None, verdicts: dict[str, str]) -> None:
        code = self.codes[pick % len(self.codes)] if self.codes else "T01UNKNOWN"
        step = redeem(code, user, order=order, verdicts=verdicts, log=self.log())
        self.both(lambda store: store.redeem(step, self.now))

    @rule(pick=st.integers(0, 50))
    def revert(self, pick: int) -> None:
        code = self.codes[pick % len(self.codes)] if self.codes else "T02UNKNOWN"
        self.both(lambda store: store.revert(revert(code), self.now))

    @rule(seconds=st.sampled_from([1, 30, 99]))
    def advance(self, seconds: int) -> None:
        self.now += seconds

    @rule(
        op=st.sampled_from(["list_add", "list_remove", "list_replace"]),
        name=st.sampled_from(["a", "b"]),
        values=st.lists(st.sampled_from(["x", "y", "z"]), max_size=3),
    )
    def change_list(self, op: str, name: str, values: list[str]) -> None:
        self.both(lambda store: getattr(store, op)(name, values))

    @rule(scope=st.sampled_from(SCOPES), paused=st.booleans())
    def pause(self, scope: Scope, paused: bool) -> None:
        self.both(lambda store: store.set_paused(scope.ruleset, scope.campaign, paused))

    @invariant()
    def same_state(self) -> None:
        for scope in SCOPES:
            self.both(lambda store, scope=scope: store.counters(scope, COUNTER_KEYS))  # type: ignore[misc]
            self.both(lambda store, scope=scope: _log(store, scope))  # type: ignore[misc]
        self.both(lambda store: store.coupons([(code[:3], code) for code in self.codes]))
        self.both(lambda store: store.lists())
        self.both(lambda store: store.paused())


async def _log(store: CounterStore, scope: Scope) -> list[dict[str, Any]]:
    """The log without entry ids, which differ in form (Redis stream ids)."""
    return [{k: v for k, v in entry.items() if k != "id"} for entry in await store.log(scope)]


def test_memory_and_redis_agree(redis_server: RedisProcess) -> None:
    options = settings(max_examples=30, stateful_step_count=25, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    with asyncio.Runner() as runner:
        machine = lambda: StoresAgree(runner, redis_server.url)  # noqa: E731
        run_state_machine_as_test(machine, settings=options)  # type: ignore[arg-type]
