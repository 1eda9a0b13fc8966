"""Recount a campaign's quotas from its issuance log, and read a counter's quota from its
logical key.

Every issued claim is one log entry (engine/store/keys.py `claim_entry`) with its time,
outcome (reward or prize), user, device, IP and face value. Replaying the entries through
the quotas of the campaign's rules gives what every counter should hold (engine/quotas.py
names them: `s:` stock, `b:` budget, `l:` limits, `n:` tallies), independently of the
counters the claim script moved.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dsl.model import Campaign, Limit, Period
from engine.context import normalise_ip
from engine.quotas import (
    CAMPAIGN_LEVEL,
    budget_counter,
    limit_counter,
    stock_counter,
    tally_counter,
)

KINDS = {"s": "stock", "b": "budget", "l": "limit", "n": "tally"}


@dataclass(frozen=True)
class Quota:
    """What a counter may reach: `limit` (None: a tally, which only counts) and what it
    is, for messages (`user limit 1 per day of reward *`)."""

    kind: str  # stock, budget, limit, tally
    limit: int | None
    what: str


@dataclass
class Recount:
    used: Tally[str]  # logical key -> what the log says the counter holds
    quotas: dict[str, Quota]  # logical key -> its quota, for every key the log touched


def _scope_value(limit: Limit, entry: dict[str, Any]) -> str:
    if limit.scope == "user":
        return str(entry.get("user", ""))
    if limit.scope == "device":
        return str(entry.get("device", ""))
    ip = str(entry.get("ip", ""))
    return normalise_ip(ip)[1] if ip else ""


def _period_text(period: Period | None) -> str:
    return f" per {period.label}" if period is not None else " in total"


def recount(campaign: Campaign, tz: ZoneInfo, entries: Iterable[dict[str, Any]]) -> Recount:
    """What every counter of `campaign` should hold after the claim `entries`."""
    result = Recount(Tally(), {})
    for entry in entries:
        now, outcome = int(entry["time"]), str(entry["reward"])
        face = int(entry.get("face_value") or 0)
        for key, amount, quota in _touched(campaign, tz, entry, now, outcome, face):
            result.used[key] += amount
            result.quotas.setdefault(key, quota)
    return result


def _touched(
    campaign: Campaign, tz: ZoneInfo, entry: dict[str, Any], now: int, outcome: str, face: int
) -> Iterator[tuple[str, int, Quota]]:
    reward = next((r for r in campaign.rewards if r.id == outcome), None)
    levels: list[tuple[str, Limit]] = [(CAMPAIGN_LEVEL, lim) for lim in campaign.limits]
    if reward is not None:
        levels += [(reward.id, lim) for lim in reward.limits]
    for level, lim in levels:
        c = limit_counter(level, lim, _scope_value(lim, entry), now, tz)
        what = f"{lim.scope} limit {lim.count}{_period_text(lim.period)} of reward {level}"
        if c.limit == 0:  # the claim had no device (IP): it can never have room
            what = f"{lim.scope} limit: issued without a {lim.scope}"
        yield c.key, 1, Quota("limit", c.limit, what)
    stocks = reward.stocks if reward is not None else _prize_stocks(campaign, outcome)
    for stock in stocks:
        c = stock_counter(outcome, stock, now, tz)
        yield c.key, 1, Quota("stock", c.limit, f"stock {stock.count}{_period_text(stock.period)}")
    budgets = [(CAMPAIGN_LEVEL, b) for b in campaign.budgets]
    budgets += [(reward.id, b) for b in reward.budgets] if reward is not None else []
    for level, budget in budgets:
        c = budget_counter(level, budget, face, now, tz)
        text = f"budget {budget.amount}{_period_text(budget.period)} of reward {level}"
        yield c.key, face, Quota("budget", c.limit, text)
    yield tally_counter(outcome).key, 1, Quota("tally", None, f"issued {outcome}")


def _prize_stocks(campaign: Campaign, outcome: str) -> tuple[Any, ...]:
    lottery = campaign.lottery
    prize = next((p for p in lottery.prizes if p.id == outcome), None) if lottery else None
    return prize.stocks if prize is not None else ()


def quota_of(campaign: Campaign, key: str) -> Quota | None:
    """The quota of a counter found in the store (also one no log entry explains), from
    its logical key; None for keys that are not quotas (pity, referral)."""
    kind, _, rest = key.partition(":")
    if kind == "n":
        return Quota("tally", None, f"issued {rest}")
    if kind == "l" and rest.startswith("none:"):
        return Quota("limit", 0, f"{rest[5:]} limit: issued without a {rest[5:]}")
    if kind not in ("s", "b", "l"):
        return None
    level, _, rest = rest.partition(":")
    if kind == "l":
        scope, _, rest = rest.partition(":")
        label = None if rest.startswith("all:") else rest.partition(":")[0]
        lims = [lim for lv, lim in _limits(campaign) if lv == level and lim.scope == scope]
        found = [lim.count for lim in lims if _label(lim.period) == label]
        text = f"{scope} limit{_label_text(label)} of reward {level}"
        return Quota("limit", min(found), text) if found else Quota("limit", 0, "no such " + text)
    label = None if rest == "all" else rest.partition(":")[0]
    if kind == "s":
        stocks = [s.count for s in _stocks(campaign, level) if _label(s.period) == label]
        text = f"stock{_label_text(label)}"
        return Quota("stock", min(stocks), text) if stocks else Quota("stock", 0, "no such " + text)
    pool = campaign.budgets if level == CAMPAIGN_LEVEL else _reward_budgets(campaign, level)
    amounts = [b.amount for b in pool if _label(b.period) == label]
    text = f"budget{_label_text(label)} of reward {level}"
    return Quota("budget", min(amounts), text) if amounts else Quota("budget", 0, "no such " + text)


def _label(period: Period | None) -> str | None:
    return period.label if period is not None else None


def _label_text(label: str | None) -> str:
    return f" per {label}" if label is not None else " in total"


def _limits(campaign: Campaign) -> Iterator[tuple[str, Limit]]:
    for lim in campaign.limits:
        yield CAMPAIGN_LEVEL, lim
    for reward in campaign.rewards:
        for lim in reward.limits:
            yield reward.id, lim


def _stocks(campaign: Campaign, outcome: str) -> tuple[Any, ...]:
    reward = next((r for r in campaign.rewards if r.id == outcome), None)
    return reward.stocks if reward is not None else _prize_stocks(campaign, outcome)


def _reward_budgets(campaign: Campaign, level: str) -> tuple[Any, ...]:
    reward = next((r for r in campaign.rewards if r.id == level), None)
    return reward.budgets if reward is not None else ()
