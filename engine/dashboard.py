"""Live counters of a campaign for operators (issue #4): what it issued, per reward or
prize, stock left and budget spent in the current period, redemptions, and refusals by
reason. Read from the store, never from a process's memory, so every worker agrees."""

from __future__ import annotations

from typing import Any

from dsl.model import Campaign, Period
from engine.money import format_money
from engine.periods import period_id
from engine.quotas import CAMPAIGN_LEVEL, budget_counter, stock_counter, tally_counter
from engine.registry import Loaded
from engine.store import Counter, CounterStore

REDEEM, REVERT = "redeem:", "revert:"  # stats names that are outcomes, not refusals


def _outcomes(campaign: Campaign) -> list[str]:
    if campaign.lottery is not None:
        names = [p.id for p in campaign.lottery.prizes]
        return names + (["otherwise"] if campaign.lottery.otherwise_text is not None else [])
    return [r.id for r in campaign.rewards]


def _period_label(period: Period | None, now: int, loaded: Loaded) -> str:
    if period is None:
        return "total"
    return f"{period.label} {period_id(period, now, loaded.ruleset.tz)}"


async def campaign_counters(store: CounterStore, loaded: Loaded, now: int) -> dict[str, Any]:
    campaign, tz, k = loaded.campaign, loaded.ruleset.tz, loaded.ruleset.minor_units
    outcomes = _outcomes(campaign)
    stocks: list[tuple[str, Counter, Period | None]] = []
    for reward in campaign.rewards:
        stocks += [
            (reward.id, stock_counter(reward.id, s, now, tz), s.period) for s in reward.stocks
        ]
    for prize in campaign.lottery.prizes if campaign.lottery else ():
        stocks += [(prize.id, stock_counter(prize.id, s, now, tz), s.period) for s in prize.stocks]
    budgets = [
        (CAMPAIGN_LEVEL, budget_counter(CAMPAIGN_LEVEL, b, 0, now, tz), b.period)
        for b in campaign.budgets
    ]
    for reward in campaign.rewards:
        budgets += [
            (reward.id, budget_counter(reward.id, b, 0, now, tz), b.period) for b in reward.budgets
        ]
    keys = [tally_counter(o).key for o in outcomes] + [c.key for _, c, _ in stocks + budgets]
    values = await store.counters(loaded.scope, keys) if keys else []
    issued = dict(zip(outcomes, values, strict=False))
    rest = values[len(outcomes) :]
    stats = await store.stats(loaded.scope)
    return {
        "issued": sum(issued.values()),
        "issued_by_reward": issued,
        "stock": [
            {"reward": name, "period": _period_label(period, now, loaded), "limit": c.limit,
             "issued": used, "left": max(c.limit - used, 0)}
            for (name, c, period), used in zip(stocks, rest, strict=False)
        ],
        "budget": [
            {"level": "campaign" if name == CAMPAIGN_LEVEL else name,
             "period": _period_label(period, now, loaded), "limit": format_money(c.limit, k),
             "spent": format_money(spent, k), "left": format_money(max(c.limit - spent, 0), k)}
            for (name, c, period), spent in zip(budgets, rest[len(stocks) :], strict=False)
        ],
        "redeemed": stats.get(REDEEM + "redeemed", 0),
        "reverted": stats.get(REVERT + "reverted", 0),
        "rejections": {r: n for r, n in sorted(stats.items()) if ":" not in r},
    }  # fmt: skip
