"""What a user could claim now (LANGUAGE.md 10.1 step 3): evaluate's read-only preview of
the store checks of a claim, for every claimable reward of a campaign that passed its rules.

A limit whose scope value the context lacks (no device id, no IP) is not checked here:
it is a preview, and the claim will check it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from dsl.context import Context
from dsl.model import Lottery
from engine.quotas import has_room, limit_counters, pity_key, prize_counters, reward_counters
from engine.registry import Loaded
from engine.store import Counter, CounterStore, StoreUnavailable

UNAVAILABLE = "unavailable"  # the store could not be asked: claimable status unknown


async def preview(
    store: CounterStore, campaigns: Sequence[Loaded], ctx: Context, now: int
) -> list[dict[str, Any]]:
    """One entry per claimable reward (per lottery campaign): `{campaign, reward?,
    available, reason?}`. One store read per campaign, all at once."""
    found = await asyncio.gather(*(_campaign(store, loaded, ctx, now) for loaded in campaigns))
    return [entry for entries in found for entry in entries]


def _limits(loaded: Loaded, reward: Any, ctx: Context, now: int) -> list[Counter]:
    counters = limit_counters(loaded.campaign, reward, ctx, now, loaded.ruleset.tz)
    return [c for c in counters if not c.key.startswith("l:none:")]


async def _campaign(
    store: CounterStore, loaded: Loaded, ctx: Context, now: int
) -> list[dict[str, Any]]:
    campaign, tz = loaded.campaign, loaded.ruleset.tz
    try:
        if campaign.lottery is not None:
            return [await _lottery(store, loaded, campaign.lottery, ctx, now)]
        plans = [
            (reward, _limits(loaded, reward, ctx, now) + reward_counters(campaign, reward, now, tz))
            for reward in campaign.rewards
        ]
        keys = sorted({c.key for _, counters in plans for c in counters})
        values = dict(zip(keys, await store.counters(loaded.scope, keys), strict=True))
    except StoreUnavailable:
        rewards: list[str | None] = [r.id for r in campaign.rewards] or [None]
        return [_entry(campaign.id, r, UNAVAILABLE) for r in rewards]
    return [
        _entry(campaign.id, reward.id, _first_full(counters, values)) for reward, counters in plans
    ]


async def _lottery(
    store: CounterStore, loaded: Loaded, lottery: Lottery, ctx: Context, now: int
) -> dict[str, Any]:
    campaign, tz = loaded.campaign, loaded.ruleset.tz
    limits = _limits(loaded, None, ctx, now)
    prizes = [prize_counters(campaign, p, now, tz) for p in lottery.prizes]
    keys = sorted({c.key for c in limits} | {c.key for s, b in prizes for c in (*s, *b)})
    values = dict(zip(keys, await store.counters(loaded.scope, keys), strict=True))
    reason = _first_full(limits, values)
    if reason is None and not _can_draw(lottery, prizes, values):
        due = lottery.guarantee is not None and await _pity_due(store, loaded, lottery, ctx)
        reason = None if due and _guarantee_available(lottery, prizes, values) else "out_of_stock"
    return _entry(campaign.id, None, reason)


def _can_draw(lottery: Lottery, prizes: Any, values: dict[str, int]) -> bool:
    """Some outcome can be drawn: `otherwise`, or an available prize with a weight (7.4)."""
    if lottery.otherwise_text is not None:
        return True
    return any(
        prize.weight > 0 and _fits((*stocks, *budgets), values)
        for prize, (stocks, budgets) in zip(lottery.prizes, prizes, strict=True)
    )


def _guarantee_available(lottery: Lottery, prizes: Any, values: dict[str, int]) -> bool:
    for prize, (stocks, budgets) in zip(lottery.prizes, prizes, strict=True):
        if prize.id == lottery.guarantee:
            return _fits((*stocks, *budgets), values)
    return False


async def _pity_due(store: CounterStore, loaded: Loaded, lottery: Lottery, ctx: Context) -> bool:
    if not ctx.user_id:
        return False
    return await store.pity(loaded.scope, pity_key(ctx.user_id)) >= lottery.guarantee_after


def _fits(counters: Sequence[Counter], values: dict[str, int]) -> bool:
    return all(has_room(c, values.get(c.key, 0)) for c in counters)


def _first_full(counters: Sequence[Counter], values: dict[str, int]) -> str | None:
    for counter in counters:
        if not has_room(counter, values.get(counter.key, 0)):
            return counter.reason
    return None


def _entry(campaign: str, reward: str | None, reason: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"campaign": campaign}
    if reward is not None:
        entry["reward"] = reward
    entry["available"] = reason is None
    if reason is not None:
        entry["reason"] = reason
    return entry
