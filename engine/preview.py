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
from engine.claims import Plans
from engine.quotas import claim_values, has_room, pity_key
from engine.registry import Loaded
from engine.store import Counter, CounterStore, StoreUnavailable
from engine.store.shapes import ClaimShape, LimitSlot

UNAVAILABLE = "unavailable"  # the store could not be asked: claimable status unknown


async def preview(
    store: CounterStore, plans: Plans, campaigns: Sequence[Loaded], ctx: Context, now: int
) -> list[dict[str, Any]]:
    """One entry per claimable reward (per lottery campaign): `{campaign, reward?,
    available, reason?}`. One store read per campaign, all at once. The counters are the
    claim's own (its plan's shape at `now`, shared by every request of that second), so a
    preview says what the claim would check."""
    found = await asyncio.gather(*(_campaign(store, plans, c, ctx, now) for c in campaigns))
    return [entry for entries in found for entry in entries]


def _checks(shape: ClaimShape, values: tuple[str, str, str, str]) -> list[Counter]:
    """The shape's checks with this context's values, but the limits it has no value for."""
    checks = []
    for check in shape.checks:
        if isinstance(check, LimitSlot):
            if not values[check.source] and check.unknown is not None:
                continue
            checks.append(check.with_value(values[check.source]))
        else:
            checks.append(check)
    return checks


async def _campaign(
    store: CounterStore, plans: Plans, loaded: Loaded, ctx: Context, now: int
) -> list[dict[str, Any]]:
    campaign, values = loaded.campaign, claim_values(ctx)
    try:
        if campaign.lottery is not None:
            shape = plans.get(loaded, None).second(now).shape
            return [await _lottery(store, loaded, shape, campaign.lottery, ctx)]
        checks = [
            (reward, _checks(plans.get(loaded, reward).second(now).shape, values))
            for reward in campaign.rewards
        ]
        keys = sorted({c.key for _, counters in checks for c in counters})
        counts = dict(zip(keys, await store.counters(loaded.scope, keys), strict=True))
    except StoreUnavailable:
        rewards: list[str | None] = [r.id for r in campaign.rewards] or [None]
        return [_entry(campaign.id, r, UNAVAILABLE) for r in rewards]
    return [
        _entry(campaign.id, reward.id, _first_full(counters, counts)) for reward, counters in checks
    ]


async def _lottery(
    store: CounterStore, loaded: Loaded, shape: ClaimShape, lottery: Lottery, ctx: Context
) -> dict[str, Any]:
    limits = _checks(shape, claim_values(ctx))
    # A lottery shape's first outcomes are its prizes, in order: their stocks (then the
    # outcome's tally, which never refuses) and the campaign's budgets at the prize's face.
    prizes = [(o.counters[:-1], o.budget) for o in shape.outcomes[: len(lottery.prizes)]]
    keys = sorted({c.key for c in limits} | {c.key for s, b in prizes for c in (*s, *b)})
    values = dict(zip(keys, await store.counters(loaded.scope, keys), strict=True))
    reason = _first_full(limits, values)
    if reason is None and not _can_draw(lottery, prizes, values):
        due = lottery.guarantee is not None and await _pity_due(store, loaded, lottery, ctx)
        reason = None if due and _guarantee_available(lottery, prizes, values) else "out_of_stock"
    return _entry(loaded.campaign.id, None, reason)


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
