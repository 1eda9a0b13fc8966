"""Benefits and modifiers (LANGUAGE.md 7.1, 7.2): what a discount or a coupon gives and
how it is bounded. Shared by automatic discounts, coupons, pack coupons and coupon prizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from dsl import ast
from dsl.names import Scope
from dsl.report import Report, Settings, keyword_span
from dsl.typecheck import ExprChecker
from dsl.values import check_amount, check_count, check_percent

BENEFITS = (ast.ValueOff, ast.Tiers, ast.Every, ast.BuyGet, ast.FreeShipping, ast.Gift, ast.Points)

_KEYWORDS: dict[type, str] = {
    ast.ValueOff: "value",
    ast.Tiers: "tiers",
    ast.Every: "every",
    ast.BuyGet: "buy",
    ast.FreeShipping: "free shipping",
    ast.Gift: "gift",
    ast.Points: "points",
    ast.Cap: "cap",
    ast.MinSpend: "min spend",
    ast.OnItems: "on items where",
    ast.ValidFor: "valid",
    ast.ValidUntil: "valid",
    ast.ValidRange: "valid",
    ast.Otherwise: "otherwise",
    ast.Guarantee: "guarantee",
}


def keyword_of(node: ast.Node) -> str:
    """The keyword an item is written with, as messages quote it."""
    return _KEYWORDS.get(type(node), type(node).__name__.lower())


@dataclass(frozen=True, slots=True)
class RewardEnv:
    """What the rewards of one campaign are checked against."""

    report: Report
    settings: Settings
    exprs: ExprChecker
    segments: Mapping[str, int]
    declared: Mapping[str, int] = field(default_factory=dict)
    window_end: int | None = None
    campaign_budgets: tuple[ast.BudgetItem, ...] = ()


def offer_kind(benefit: ast.Node | None) -> str | None:
    """`money`, `shipping`, `gift` or `points`: how an offer competes in its group."""
    if benefit is None:
        return None
    if isinstance(benefit, ast.FreeShipping):
        return "shipping"
    if isinstance(benefit, ast.Gift | ast.Points):
        return "gift" if isinstance(benefit, ast.Gift) else "points"
    return "money"


def check_benefit_count(
    benefits: Sequence[ast.Node], block: ast.Node, what: str, report: Report
) -> None:
    """`a discount has exactly one benefit`: at the second one, or at the block's keyword
    when there is none."""
    message = f"a {what} has exactly one benefit"
    if not benefits:
        report.error(f"{message}, and this one has none", keyword_span(block.span, what))
    for extra in benefits[1:]:
        word = keyword_of(extra)
        report.error(f"{message}; '{word}' is a second one", keyword_span(extra.span, word))


def check_repeated(items: Sequence[ast.Node], report: Report, kinds: tuple[type, ...]) -> None:
    """Items marked 0-1 (`cap`, `min spend`, `on items where`, `valid` …) given again."""
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, kinds):
            continue
        word = keyword_of(item)
        if word in seen:
            report.error(f"'{word}' is given twice", keyword_span(item.span, word))
        seen.add(word)


def check_benefit(benefit: ast.Node, env: RewardEnv) -> None:
    report, settings = env.report, env.settings
    match benefit:
        case ast.ValueOff(amount=ast.Percent() as percent):
            check_percent(percent, report)
        case ast.ValueOff(amount=ast.Number() as amount):
            check_amount(amount, "value", report, settings)
        case ast.Tiers():
            _check_tiers(benefit, env)
        case ast.Every():
            check_amount(benefit.step, "every", report, settings)
            check_amount(benefit.save, "save", report, settings)
        case ast.BuyGet():
            check_count(benefit.buy.value, benefit.buy.span, "buy", report)
            check_count(benefit.get.value, benefit.get.span, "get", report)
            if benefit.percent is not None:
                check_percent(benefit.percent, report)
        case ast.Gift(qty=ast.Int() as qty):
            check_count(qty.value, qty.span, "gift qty", report)
        case ast.Points():
            check_count(benefit.points.value, benefit.points.span, "points", report)
            if benefit.per is not None:
                check_amount(benefit.per, "per", report, settings)


def _check_tiers(tiers: ast.Tiers, env: RewardEnv) -> None:
    report = env.report
    kind = tiers.tiers[0].kind if tiers.tiers else "spend"
    mixed = next((tier for tier in tiers.tiers if tier.kind != kind), None)
    if mixed is not None:
        report.error("tiers mix spend and qty; use one kind of threshold",
                     keyword_span(mixed.span, mixed.kind))  # fmt: skip
    ok = True
    for tier in tiers.tiers:
        if tier.kind == "qty":
            ok &= check_count(tier.threshold.value, tier.threshold.span, "a tier qty", report)
        else:
            ok &= check_amount(tier.threshold, "spend", report, env.settings)
        if isinstance(tier.save, ast.Percent):
            check_percent(tier.save, report)
        else:
            check_amount(tier.save, "save", report, env.settings)
    if mixed is None and ok:
        _check_increasing(tiers.tiers, report)


def _check_increasing(tiers: Sequence[ast.Tier], report: Report) -> None:
    for before, tier in pairwise(tiers):
        if tier.threshold.value <= before.threshold.value:
            report.error(
                f"tier thresholds must increase: {tier.kind} {tier.threshold.text} "
                f"comes after {before.kind} {before.threshold.text}",
                keyword_span(tier.span, tier.kind),
            )
            return


def check_modifier(
    modifier: ast.Cap | ast.MinSpend | ast.OnItems,
    benefit: ast.Node | None,
    env: RewardEnv,
    *,
    coupon: bool,
) -> None:
    """A modifier, against the benefit it bounds (the first one written)."""
    if isinstance(modifier, ast.OnItems):
        scope = Scope(
            "'on items where'", env.segments, env.declared, item=True, coupon_filter=coupon
        )
        env.exprs.clause(modifier.expr, scope)
        return
    clash = _clash(modifier, benefit)
    word = keyword_of(modifier)
    if clash is not None:
        env.report.error(f"'{word}' is not allowed with {clash}", keyword_span(modifier.span, word))
        return
    check_amount(modifier.amount, word, env.report, env.settings)


def _clash(modifier: ast.Cap | ast.MinSpend, benefit: ast.Node | None) -> str | None:
    """Why a modifier cannot bound this benefit: a threshold already written (tiers, every,
    points per), or an offer with no amount to cap (gift, points)."""
    if isinstance(modifier, ast.MinSpend):
        if isinstance(benefit, ast.Tiers | ast.Every):
            name = keyword_of(benefit)
            return f"{name}, whose thresholds are already written"
        if isinstance(benefit, ast.Points) and benefit.per is not None:
            return "points … per, whose threshold is already written"
        return None
    if isinstance(benefit, ast.Gift | ast.Points):
        return f"{keyword_of(benefit)}, which gives no amount to cap"
    return None
