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


def scope_value(limit: Limit, ctx: Context) -> str:
    if limit.scope == "user":
        return ctx.user_id
    if limit.scope == "device":
        return ctx.device_id
    return ctx.ip_scope


def limit_counter(level: str, limit: Limit, value: str, now: int, tz: ZoneInfo) -> Counter:
    reason = f"{limit.scope}_limit"
    if not value:
        # An unknown device (or IP) cannot be counted: this counter never has room.
        return Counter(f"l:none:{limit.scope}", 0, 1, reason)
    part, expires = _period(limit.period, now, tz)
    return Counter(f"l:{level}:{limit.scope}:{part}:{value}", limit.count, 1, reason, expires)


def stock_counter(reward: str, stock: Stock, now: int, tz: ZoneInfo) -> Counter:
    part, expires = _period(stock.period, now, tz)
    return Counter(f"s:{reward}:{part}", stock.count, 1, "out_of_stock", expires)


def budget_counter(level: str, budget: Budget, amount: int, now: int, tz: ZoneInfo) -> Counter:
    part, expires = _period(budget.period, now, tz)
    return Counter(f"b:{level}:{part}", budget.amount, amount, "budget_exhausted", expires)


def referral_counter(invitee: str) -> Counter:
    """Each invitee earns a reward at most once per campaign, whoever claims (7.5)."""
    return Counter(f"r:{invitee}", 1, 1, "user_limit")


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


def limit_counters(
    campaign: Campaign, reward: Reward | None, ctx: Context, now: int, tz: ZoneInfo
) -> list[Counter]:
    """Limits in the order of LANGUAGE.md 10.2 step 6: user (campaign level, then reward
    level, then the invitee's one-time reward), device, IP."""
    by_scope: dict[str, list[Counter]] = {"user": [], "device": [], "ip": []}
    for level, limit in _limits(campaign, reward):
        counter = limit_counter(level, limit, scope_value(limit, ctx), now, tz)
        by_scope[limit.scope].append(counter)
    if campaign.referral is not None:
        by_scope["user"].append(referral_counter(ctx.referral_invitee))
    return by_scope["user"] + by_scope["device"] + by_scope["ip"]


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


# --- the counters of a claim shape -----------------------------------------------------------

_SOURCES = {"user": USER, "device": DEVICE, "ip": IP}


def check_slots(
    campaign: Campaign, reward: Reward | None, now: int, tz: ZoneInfo
) -> tuple[LimitSlot | Counter, ...]:
    """`limit_counters` then `reward_counters` (for a reward) as a claim shape's checks:
    a `LimitSlot` where the claim's user, device, IP or invitee ends the key."""
    by_scope: dict[str, list[LimitSlot | Counter]] = {"user": [], "device": [], "ip": []}
    for level, limit in _limits(campaign, reward):
        part, expires = _period(limit.period, now, tz)
        reason = f"{limit.scope}_limit"
        unknown = Counter(f"l:none:{limit.scope}", 0, 1, reason)  # as limit_counter has it
        head = f"l:{level}:{limit.scope}:{part}:"
        slot = LimitSlot(_SOURCES[limit.scope], head, limit.count, 1, reason, expires, unknown)
        by_scope[limit.scope].append(slot)
    if campaign.referral is not None:  # referral_counter
        by_scope["user"].append(LimitSlot(INVITEE, "r:", 1, 1, "user_limit", 0))
    fixed = reward_counters(campaign, reward, now, tz) if reward is not None else []
    return (*by_scope["user"], *by_scope["device"], *by_scope["ip"], *fixed)
