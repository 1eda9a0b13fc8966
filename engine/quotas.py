"""Which counters a claim must have room in, named by logical keys (LANGUAGE.md 8, 10.2).

Counters belong to (ruleset id, campaign, reward), not to a version (10.9): the keys say
which reward (or `*` for the campaign level), which period and which scope value, and the
quota's size comes from the active version, so a new version that raises a stock from
1000 to 2000 finds the 400 already issued.
"""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from dsl.context import Context
from dsl.model import Budget, Campaign, Limit, Period, Prize, Reward, Stock
from engine.periods import period_end, period_id
from engine.store import Counter
from engine.store.shapes import DEVICE, INVITEE, IP, USER, LimitSlot

CAMPAIGN_LEVEL = "*"
GRACE = 2 * 86_400  # keep a period's counters a little past its end, for reports


def _period(period: Period | None, now: int, tz: ZoneInfo) -> tuple[str, int]:
    """The key part of a period, and when its counters may be dropped (0: never)."""
    if period is None:
        return "all", 0
    return f"{period.label}:{period_id(period, now, tz)}", period_end(period, now, tz) + GRACE


def limit_slot(level: str, limit: Limit, now: int, tz: ZoneInfo) -> LimitSlot:
    """The counter of a limit at `now`, but the user, device or IP value that ends its key."""
    part, expires = _period(limit.period, now, tz)
    reason = f"{limit.scope}_limit"
    # An unknown device (or IP) cannot be counted: its counter never has room.
    unknown = Counter(f"l:none:{limit.scope}", 0, 1, reason)
    head = f"l:{level}:{limit.scope}:{part}:"
    return LimitSlot(_SOURCES[limit.scope], head, limit.count, 1, reason, expires, unknown)


def limit_counter(level: str, limit: Limit, value: str, now: int, tz: ZoneInfo) -> Counter:
    return limit_slot(level, limit, now, tz).with_value(value)


_SOURCES = {"user": USER, "device": DEVICE, "ip": IP}
# Each invitee earns a reward at most once per campaign, whoever claims (7.5).
REFERRAL = LimitSlot(INVITEE, "r:", 1, 1, "user_limit", 0)


def claim_values(ctx: Context) -> tuple[str, str, str, str]:
    """The values that end a claim's limit keys, in LimitSlot.source order."""
    return ctx.user_id, ctx.device_id, ctx.ip_scope, ctx.referral_invitee


def stock_counter(reward: str, stock: Stock, now: int, tz: ZoneInfo) -> Counter:
    part, expires = _period(stock.period, now, tz)
    return Counter(f"s:{reward}:{part}", stock.count, 1, "out_of_stock", expires)


def budget_counter(level: str, budget: Budget, amount: int, now: int, tz: ZoneInfo) -> Counter:
    part, expires = _period(budget.period, now, tz)
    return Counter(f"b:{level}:{part}", budget.amount, amount, "budget_exhausted", expires)


TALLY_LIMIT = 1 << 50  # never reached; exact in Lua's doubles


def tally_counter(outcome: str) -> Counter:
    """Counts what a campaign issued, per reward or prize (`otherwise` too), for the
    operators' live counters; it never refuses anything."""
    return Counter(f"n:{outcome}", TALLY_LIMIT, 1, "out_of_stock")


def pity_key(user: str) -> str:
    return f"p:{user}"


def _limits(campaign: Campaign, reward: Reward | None) -> Iterator[tuple[str, Limit]]:
    for limit in campaign.limits:
        yield CAMPAIGN_LEVEL, limit
    if reward is not None:
        for limit in reward.limits:
            yield reward.id, limit


def limit_slots(
    campaign: Campaign, reward: Reward | None, now: int, tz: ZoneInfo
) -> list[LimitSlot]:
    """Limits in the order of LANGUAGE.md 10.2 step 6: user (campaign level, then reward
    level, then the invitee's one-time reward), device, IP."""
    by_scope: dict[str, list[LimitSlot]] = {"user": [], "device": [], "ip": []}
    for level, limit in _limits(campaign, reward):
        by_scope[limit.scope].append(limit_slot(level, limit, now, tz))
    if campaign.referral is not None:
        by_scope["user"].append(REFERRAL)
    return by_scope["user"] + by_scope["device"] + by_scope["ip"]


def limit_counters(
    campaign: Campaign, reward: Reward | None, ctx: Context, now: int, tz: ZoneInfo
) -> list[Counter]:
    values = claim_values(ctx)
    return [slot.counter(values) for slot in limit_slots(campaign, reward, now, tz)]


def reward_counters(campaign: Campaign, reward: Reward, now: int, tz: ZoneInfo) -> list[Counter]:
    """Stock of the coupon or pack, then budgets (campaign level, then reward level)."""
    counters = [stock_counter(reward.id, s, now, tz) for s in reward.stocks]
    face = reward.face_value or 0
    counters += [budget_counter(CAMPAIGN_LEVEL, b, face, now, tz) for b in campaign.budgets]
    counters += [budget_counter(reward.id, b, face, now, tz) for b in reward.budgets]
    return counters


def prize_counters(
    campaign: Campaign, prize: Prize, now: int, tz: ZoneInfo
) -> tuple[list[Counter], list[Counter]]:
    """A prize's stocks, and the campaign's budgets with its face value (7.4)."""
    stocks = [stock_counter(prize.id, s, now, tz) for s in prize.stocks]
    budgets = [
        budget_counter(CAMPAIGN_LEVEL, b, prize.face_value, now, tz) for b in campaign.budgets
    ]
    return stocks, budgets


def has_room(counter: Counter, current: int) -> bool:
    return current + counter.amount <= counter.limit


def check_slots(
    campaign: Campaign, reward: Reward | None, now: int, tz: ZoneInfo
) -> tuple[LimitSlot | Counter, ...]:
    """A claim shape's checks: `limit_slots`, then `reward_counters` for a reward."""
    fixed = reward_counters(campaign, reward, now, tz) if reward is not None else []
    return (*limit_slots(campaign, reward, now, tz), *fixed)
