"""The engine: loaded rulesets on a counter store, and the four operations of LANGUAGE.md 10.

    store = open_store("memory")
    engine = Engine(store, SystemClock())
    await engine.load(compile_text(source, "double11.promo")[0])
    await engine.claim({"campaign": "flash_coupon", "user": "u1", "key": "k-1"})

Requests and results are the JSON shapes of LANGUAGE.md 10 (money as strings). A request
that is wrong raises `RequestError`; a store that cannot answer raises `StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from random import Random
from typing import Any

from dsl.model import CompiledRuleset
from engine import evaluation, redemptions
from engine.caches import StoreCache
from engine.claims import (
    Plans,
    build_step,
    decode_result,
    parse_claim,
    rejected_json,
    result_json,
    rule_refusal,
)
from engine.clock import Clock
from engine.dashboard import campaign_counters
from engine.errors import RequestError
from engine.registry import Registry
from engine.stats import OutcomeStats
from engine.store import CounterStore

_CODE_RETRIES = 5


class Engine:
    def __init__(
        self,
        store: CounterStore,
        clock: Clock,
        *,
        seed: int | None = None,
        refresh_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = Registry()
        self.cache = StoreCache(store, refresh_interval)
        self.stats = OutcomeStats(store)
        self.plans = Plans(self.registry)
        # A seed makes lottery draws repeatable (conformance cases); otherwise `secrets`.
        self._rng = Random(seed) if seed is not None else None

    # --- lifecycle ------------------------------------------------------------------------------

    async def load(self, ruleset: CompiledRuleset) -> None:
        """Activate `ruleset` (a new version when its id is loaded). Its coupon terms go to
        the store first, so that any process can redeem what this one issues."""
        terms = self.registry.plan(ruleset)
        if terms:
            await self.store.put_terms(terms)
        self.registry.install(ruleset)

    def unload(self, ruleset_id: str) -> None:
        self.registry.remove(ruleset_id)

    async def start(self) -> None:
        """Keep the list and pause caches fresh in the background (a service does this)."""
        await self.cache.refresh()
        self.cache.start()
        self.stats.start()

    async def close(self) -> None:
        await self.cache.stop()
        await self.stats.stop()

    # --- reads for tools -----------------------------------------------------------------------

    def reward_count(self, campaign_id: str) -> int:
        loaded = self.registry.historic(campaign_id)
        return len(loaded.campaign.rewards) if loaded is not None else 0

    def rulesets(self) -> tuple[CompiledRuleset, ...]:
        return self.registry.rulesets()

    async def counters(self, campaign_id: str) -> dict[str, Any]:
        """Live counters of a campaign (issued, stock left, budget spent, redemptions,
        refusals by reason), as every process sees them."""
        loaded = self.registry.campaign(campaign_id)
        if loaded is None:
            raise RequestError("unknown_campaign", f"no campaign '{campaign_id}' is loaded")
        return await campaign_counters(self.store, loaded, self.clock.now())

    def is_paused(self, ruleset_id: str, campaign_id: str) -> bool:
        return (ruleset_id, campaign_id) in self.cache.paused

    # --- the four operations ------------------------------------------------------------------

    async def evaluate(
        self, request: Mapping[str, Any], *, claimable: bool = True
    ) -> dict[str, Any]:
        """The answer of LANGUAGE.md 10.1. `claimable=False` leaves out the store preview of
        step 3 (`claimable` is then empty and the store checks of claimable rewards are not
        explained), for a caller that shows claimable rewards elsewhere; the cart's
        discounts, lines, nudges and rule-check explanations are the same."""
        await self.cache.fresh()
        return await evaluation.evaluate(self, request, self.clock.now(), claimable=claimable)

    async def eligible(self, context: dict[str, Any]) -> list[str]:
        """The ids, in evaluation order, of the campaigns whose rule checks (10.1 step 2:
        window, schedule, pause, referral, `when`, `deny when`) pass for the JSON
        `context`: the campaigns evaluate would go on to price or offer, without pricing
        the cart. Raises RequestError as evaluate does."""
        await self.cache.fresh()
        return evaluation.eligible(self, context, self.clock.now())

    async def claim(self, request: Mapping[str, Any]) -> dict[str, Any]:
        status, reason, text = await self._claim(request)
        if text is not None:
            return decode_result(text, replayed=status == "replayed")
        return {"status": "rejected", "reason": reason, "replayed": False}

    async def claim_json(self, request: Mapping[str, Any]) -> tuple[str, str, bytes]:
        """`claim` for a caller that answers JSON (the HTTP route): (`issued`, `replayed`
        or `rejected`; the reason or ""; the answer's JSON). The result the store keeps is
        JSON already: decoding it only to encode it again would be work for nothing."""
        status, reason, text = await self._claim(request)
        if text is not None:
            return status, "", result_json(text, replayed=status == "replayed")
        return "rejected", reason or "", rejected_json(reason or "")

    async def _claim(self, request: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
        """(status, refusal reason, result JSON of an issued or replayed claim)."""
        now = self.clock.now()
        parsed = parse_claim(self.registry, request, now)
        await self.cache.fresh()
        scope = parsed.loaded.scope
        refusal = rule_refusal(
            parsed, self.cache.view, (scope.ruleset, scope.campaign) in self.cache.paused, now
        )
        if refusal is not None and parsed.key is None:
            # Without a key there is no replay to look for: a refusal needs no round trip.
            self.stats.note(scope, refusal)
            return "rejected", refusal, None
        for _ in range(_CODE_RETRIES):
            step = build_step(self.plans, parsed, refusal, now, self._rng)
            result = await self.store.claim(step, now)
            if result.status != "code_taken":
                break
        else:
            raise RuntimeError("could not find an unused coupon code")
        if result.status == "key_reused":
            raise RequestError(
                "key_reused",
                f"key '{parsed.key}' was used for another claim of this user "
                "(another reward, device or IP)",
            )
        if result.status == "issued" or result.status == "replayed":
            return result.status, None, result.result
        self.stats.note(scope, result.reason or "")
        return "rejected", result.reason, None

    async def redeem(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return await redemptions.redeem(
            self.registry, self.store, self.stats, request, self.clock.now()
        )

    async def revert(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return await redemptions.revert(
            self.registry, self.store, self.stats, request, self.clock.now()
        )

    # --- operators ------------------------------------------------------------------------------

    def _campaign_key(self, campaign_id: str) -> tuple[str, str]:
        loaded = self.registry.campaign(campaign_id)
        if loaded is None:
            raise RequestError("unknown_campaign", f"no campaign '{campaign_id}' is loaded")
        return loaded.ruleset.id, campaign_id

    async def pause(self, campaign_id: str) -> None:
        key = self._campaign_key(campaign_id)
        await self.store.set_paused(*key, True)
        self.cache.set_paused(key, True)

    async def resume(self, campaign_id: str) -> None:
        key = self._campaign_key(campaign_id)
        await self.store.set_paused(*key, False)
        self.cache.set_paused(key, False)

    async def list_add(self, name: str, values: Sequence[str]) -> None:
        await self.store.list_add(name, values)
        self.cache.added(name, frozenset(values))

    async def list_remove(self, name: str, values: Sequence[str]) -> None:
        await self.store.list_remove(name, values)
        self.cache.removed(name, frozenset(values))

    async def list_replace(self, name: str, values: Sequence[str]) -> None:
        await self.store.list_replace(name, values)
        self.cache.replaced(name, frozenset(values))
