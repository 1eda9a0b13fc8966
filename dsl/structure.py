"""One campaign's shape (LANGUAGE.md 3.4): its items, how often each may appear, which
reward shape it has, and what an automatic campaign may not carry. The rewards
themselves are checked in rewards.py, and what spans campaigns in groups.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from dsl import ast
from dsl.benefits import RewardEnv
from dsl.declarations import Registry, check_reserved
from dsl.names import Scope
from dsl.report import Report, Settings, keyword_span
from dsl.rewards import RewardFacts, check_coupon, check_discount, check_lottery, check_pack
from dsl.timing import check_schedule, check_window
from dsl.typecheck import ExprChecker
from dsl.values import check_quota, check_word
from dsl.vocabulary import GOALS, STAGES, TIERS

Kind = Literal["automatic", "claimable"]
T = TypeVar("T")

_ONCE: dict[type, str] = {
    ast.TierItem: "tier",
    ast.GoalItem: "goal",
    ast.WindowItem: "window",
    ast.PriorityItem: "priority",
    ast.GroupItem: "group",
    ast.StageItem: "stage",
    ast.ReferralItem: "referral",
}
_REWARDS = (ast.DiscountBlock, ast.CouponBlock, ast.PackBlock, ast.LotteryBlock)
_CLAIM_ONLY: dict[type, str] = {
    ast.LimitItem: "limit",
    ast.BudgetItem: "budget",
    ast.ReferralItem: "referral",
}


@dataclass(frozen=True, slots=True)
class CampaignEnv:
    """What every campaign of a file is checked against."""

    report: Report
    settings: Settings
    exprs: ExprChecker
    segments: Mapping[str, int]
    declared: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """What the checks across campaigns (groups, warnings) need to know about one."""

    campaign: ast.Campaign
    kind: Kind | None
    stage: str | None
    """Its stage (`platform` when not written), or None when the word is unknown."""
    stage_item: ast.StageItem | None
    group: ast.GroupItem | None
    rewards: RewardFacts
    has_budget: bool


def check_campaign(campaign: ast.Campaign, env: CampaignEnv) -> CampaignFacts:
    report = env.report
    check_reserved(campaign.name, report, kind="campaign")
    _check_once(campaign.items, report)
    window_end = _check_time(campaign, env)
    stage_item = _first(campaign, ast.StageItem)
    stage = _check_words(campaign, report)
    group = _first(campaign, ast.GroupItem)
    if group is not None:
        check_reserved(group.name, report, kind="group")
    for item in campaign.items:
        if isinstance(item, ast.WhenItem | ast.DenyItem):
            clause = "'when'" if isinstance(item, ast.WhenItem) else "'deny when'"
            env.exprs.clause(item.expr, Scope(clause, env.segments, env.declared))
    kind = _check_shape(campaign, report)
    budgets = tuple(item for item in campaign.items if isinstance(item, ast.BudgetItem))
    facts = RewardFacts()
    _check_quotas(campaign, kind, env)
    reward_env = RewardEnv(
        report, env.settings, env.exprs, env.segments, env.declared, window_end, budgets
    )
    _check_rewards(campaign, reward_env, facts)
    facts.has_limit |= any(isinstance(item, ast.LimitItem) for item in campaign.items)
    return CampaignFacts(campaign, kind, stage, stage_item, group, facts, bool(budgets))


def _first(campaign: ast.Campaign, kind: type[T]) -> T | None:
    return next((item for item in campaign.items if isinstance(item, kind)), None)


def _check_once(items: tuple[ast.CampaignItem, ...], report: Report) -> None:
    """Items marked 0-1 (and `window`, exactly 1) reported at each repetition."""
    seen: set[str] = set()
    for item in items:
        word = _ONCE.get(type(item))
        if word is None:
            continue
        if word in seen:
            report.error(f"'{word}' is given twice", keyword_span(item.span, word))
        seen.add(word)


def _check_time(campaign: ast.Campaign, env: CampaignEnv) -> int | None:
    """The window and the schedules; the window's end instant when it is usable."""
    window = _first(campaign, ast.WindowItem)
    end = None
    if window is None:
        env.report.error(f"campaign '{campaign.name.text}' has no window", campaign.name.span)
    else:
        end = check_window(window, env.settings, env.report)
    for item in campaign.items:
        if isinstance(item, ast.DailyItem | ast.WeeklyItem | ast.MonthlyItem):
            check_schedule(item, env.report)
    return end


def _check_words(campaign: ast.Campaign, report: Report) -> str | None:
    """Tier, goal and stage words; the campaign's stage, or None when it is misspelt."""
    tier = _first(campaign, ast.TierItem)
    if tier is not None:
        check_word(tier.word, "tier", TIERS, report)
    goal = _first(campaign, ast.GoalItem)
    if goal is not None:
        check_word(goal.word, "goal", GOALS, report)
    stage = _first(campaign, ast.StageItem)
    if stage is None:
        return "platform"
    return stage.word.text if check_word(stage.word, "stage", STAGES, report) else None


def _check_shape(campaign: ast.Campaign, report: Report) -> Kind | None:
    """One discount alone, coupons and packs, or one lottery alone (3.4). The reward that
    breaks the rule is the later one; the first decides the campaign's kind."""
    rewards = [item for item in campaign.items if isinstance(item, _REWARDS)]
    if not rewards:
        report.error(
            f"campaign '{campaign.name.text}' has no discount, coupon, pack or lottery",
            campaign.name.span,
        )
        return None
    first = rewards[0]
    for later in rewards[1:]:
        alone = _alone(first, later)
        if alone is not None:
            word = _reward_word(later)
            report.error(
                f"a campaign with a {alone} has no other reward", keyword_span(later.span, word)
            )
    return "automatic" if isinstance(first, ast.DiscountBlock) else "claimable"


def _alone(first: ast.CampaignItem, later: ast.CampaignItem) -> str | None:
    """Which reward that must stand alone `later` clashes with, if any."""
    for block, word in ((ast.DiscountBlock, "discount"), (ast.LotteryBlock, "lottery")):
        if isinstance(first, block) or isinstance(later, block):
            return word
    return None


def _reward_word(item: ast.CampaignItem) -> str:
    words = {ast.DiscountBlock: "discount", ast.CouponBlock: "coupon", ast.PackBlock: "pack"}
    return words.get(type(item), "lottery")


def _check_quotas(campaign: ast.Campaign, kind: Kind | None, env: CampaignEnv) -> None:
    """Limits, budgets and referral count claims, so an automatic campaign has none."""
    for item in campaign.items:
        word = _CLAIM_ONLY.get(type(item))
        if word is None:
            continue
        if kind == "automatic":
            env.report.error(
                f"'{word}' is not allowed in an automatic campaign: a discount is applied "
                "by evaluate, with no claim to count",
                keyword_span(item.span, word),
            )
        elif isinstance(item, ast.LimitItem | ast.BudgetItem):
            check_quota(item, env.report, env.settings)


def _check_rewards(campaign: ast.Campaign, env: RewardEnv, facts: RewardFacts) -> None:
    ids = Registry("reward", env.report)
    for item in campaign.items:
        if isinstance(item, ast.DiscountBlock):
            check_discount(item, env, facts)
        elif isinstance(item, ast.CouponBlock):
            check_coupon(item, env, ids, facts)
        elif isinstance(item, ast.PackBlock):
            check_pack(item, env, ids, facts)
        elif isinstance(item, ast.LotteryBlock):
            check_lottery(item, env, facts)
