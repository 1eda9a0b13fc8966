"""The reward blocks of a campaign (LANGUAGE.md 7.1-7.4, 8): discount, coupon, pack and
lottery, with the quotas they may carry and the face value a budget counts (7.2, 8.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dsl import ast
from dsl.benefits import (
    BENEFITS,
    RewardEnv,
    check_benefit,
    check_benefit_count,
    check_modifier,
    check_repeated,
    offer_kind,
)
from dsl.declarations import Registry, check_reserved
from dsl.report import keyword_span
from dsl.suggest import did_you_mean
from dsl.timing import check_validity
from dsl.values import check_count, check_quota, check_size

MODIFIERS = (ast.Cap, ast.MinSpend, ast.OnItems)
VALIDITIES = (ast.ValidFor, ast.ValidUntil, ast.ValidRange)
QUOTAS = (ast.StockItem, ast.BudgetItem, ast.LimitItem)
_QUOTA_WORDS = {ast.StockItem: "stock", ast.BudgetItem: "budget", ast.LimitItem: "limit"}


@dataclass(slots=True)
class RewardFacts:
    """What the campaign-wide checks and warnings need to know about its rewards."""

    offers: list[str] = field(default_factory=list)
    has_limit: bool = False
    unbounded: list[tuple[str, ast.Name]] = field(default_factory=list)
    """Coupons and packs (`coupon`, name) with neither stock nor budget of their own."""


@dataclass(frozen=True, slots=True)
class _Terms:
    offer: str | None
    no_face_value: str | None
    """Why the coupon has no face value (`'value 15% off' without 'cap'`), or None."""


def check_discount(block: ast.DiscountBlock, env: RewardEnv, facts: RewardFacts) -> None:
    benefits = [item for item in block.items if isinstance(item, BENEFITS)]
    check_benefit_count(benefits, block, "discount", env.report)
    check_repeated(block.items, env.report, MODIFIERS)
    first = benefits[0] if benefits else None
    for item in block.items:
        if isinstance(item, BENEFITS):
            check_benefit(item, env)
        elif isinstance(item, MODIFIERS):
            check_modifier(item, first, env, coupon=False)
    if (kind := offer_kind(first)) is not None:
        facts.offers.append(kind)


def check_coupon(block: ast.CouponBlock, env: RewardEnv, ids: Registry, facts: RewardFacts) -> None:
    """A coupon written in the campaign itself: it may carry stock, budget and limits."""
    if check_reserved(block.name, env.report, kind="reward"):
        ids.add(block.name)
    terms = _check_terms(block.items, block, env, placement=None)
    own_budgets = tuple(item for item in block.items if isinstance(item, ast.BudgetItem))
    _needs_cap(f"coupon '{block.name.text}'", terms, (own_budgets, env.campaign_budgets), env)
    _collect(terms, block.items, ("coupon", block.name), facts)


def check_pack(block: ast.PackBlock, env: RewardEnv, ids: Registry, facts: RewardFacts) -> None:
    if check_reserved(block.name, env.report, kind="reward"):
        ids.add(block.name)
    coupons = [item for item in block.items if isinstance(item, ast.CouponBlock)]
    if not coupons:
        env.report.error(f"pack '{block.name.text}' has no coupon", block.name.span)
    pack_budgets = tuple(item for item in block.items if isinstance(item, ast.BudgetItem))
    for coupon in coupons:
        if check_reserved(coupon.name, env.report, kind="reward"):
            ids.add(coupon.name)
        terms = _check_terms(coupon.items, coupon, env, placement="on a coupon inside a pack")
        label = f"coupon '{coupon.name.text}'"
        _needs_cap(label, terms, (pack_budgets, env.campaign_budgets), env)
        if terms.offer is not None:
            facts.offers.append(terms.offer)
    for item in block.items:
        if isinstance(item, QUOTAS):
            check_quota(item, env.report, env.settings)
    _collect(_Terms(None, None), block.items, ("pack", block.name), facts)


def check_lottery(block: ast.LotteryBlock, env: RewardEnv, facts: RewardFacts) -> None:
    report = env.report
    check_repeated(block.items, report, (ast.Otherwise, ast.Guarantee))
    prizes = [item for item in block.items if isinstance(item, ast.Prize)]
    if not prizes:
        report.error("a lottery needs at least one prize", keyword_span(block.span, "lottery"))
        return
    ids = Registry("prize", report)
    for prize in prizes:
        _check_prize(prize, env, ids, facts)
    guaranteed = _check_guarantees(block, [prize.name.text for prize in prizes], env)
    others = [item for item in block.items if isinstance(item, ast.Otherwise)]
    weights = [p.weight for p in prizes] + [o.weight for o in others if o.weight]
    if not all(check_size(w.value, w.span, "a weight", report) for w in weights):
        return
    total = sum(w.value for w in weights)
    if total == 0:
        report.error("prize weights are all zero", keyword_span(block.span, "lottery"))
        return
    for prize in prizes:
        if prize.weight.value == 0 and prize.name.text not in guaranteed:
            report.warn(
                f"prize '{prize.name.text}' has weight 0 and no guarantee: it can never be won",
                prize.name.span,
            )


def _check_prize(prize: ast.Prize, env: RewardEnv, ids: Registry, facts: RewardFacts) -> None:
    if check_reserved(prize.name, env.report, kind="prize"):
        ids.add(prize.name)
    kind = prize.kind
    if isinstance(kind, ast.PrizeCoupon):
        terms = _check_terms(kind.items, kind, env, placement="on a coupon prize")
        _needs_cap(f"prize '{prize.name.text}'", terms, (env.campaign_budgets,), env)
        facts.offers.append(terms.offer or "money")
    elif isinstance(kind, ast.PrizePoints):
        check_count(kind.points.value, kind.points.span, "points", env.report)
        facts.offers.append("points")
    else:
        if prize.title is None:
            env.report.error(
                "a physical prize needs a title, the text the winner sees", prize.name.span
            )
        facts.offers.append("prize")
    if prize.stock is not None:
        check_quota(prize.stock, env.report, env.settings)


def _check_guarantees(block: ast.LotteryBlock, prizes: list[str], env: RewardEnv) -> set[str]:
    guaranteed: set[str] = set()
    for item in block.items:
        if not isinstance(item, ast.Guarantee):
            continue
        check_count(item.misses.value, item.misses.span, "misses", env.report)
        if item.prize.text in prizes:
            guaranteed.add(item.prize.text)
            continue
        hint = did_you_mean(item.prize.text, prizes)
        env.report.error(f"unknown prize '{item.prize.text}'{hint}", item.prize.span)
    return guaranteed


def _check_terms(
    items: Sequence[ast.Node],
    block: ast.CouponBlock | ast.PrizeCoupon,
    env: RewardEnv,
    *,
    placement: str | None,
) -> _Terms:
    """A coupon's benefit, modifiers and validity; `placement` names where quotas are not
    allowed (inside a pack, on a prize), None where they are."""
    benefits = [item for item in items if isinstance(item, ast.ValueOff | ast.FreeShipping)]
    check_benefit_count(benefits, block, "coupon", env.report)
    check_repeated(items, env.report, MODIFIERS + VALIDITIES)
    first = benefits[0] if benefits else None
    for item in items:
        if isinstance(item, BENEFITS):
            check_benefit(item, env)
        elif isinstance(item, MODIFIERS):
            check_modifier(item, first, env, coupon=True)
        elif isinstance(item, VALIDITIES):
            check_validity(item, env.window_end, env.settings, env.report)
        elif isinstance(item, QUOTAS):
            _check_coupon_quota(item, env, placement)
    return _Terms(offer_kind(first), _no_face_value(benefits, items))


def _check_coupon_quota(
    item: ast.StockItem | ast.BudgetItem | ast.LimitItem, env: RewardEnv, placement: str | None
) -> None:
    if placement is None:
        check_quota(item, env.report, env.settings)
        return
    word = _QUOTA_WORDS[type(item)]
    env.report.error(f"'{word}' is not allowed {placement}", keyword_span(item.span, word))


def _no_face_value(benefits: Sequence[ast.Node], items: Sequence[ast.Node]) -> str | None:
    """A percentage or free-shipping coupon without `cap` has no face value (7.2)."""
    if len(benefits) != 1 or any(isinstance(item, ast.Cap) for item in items):
        return None
    benefit = benefits[0]
    if isinstance(benefit, ast.ValueOff):
        if isinstance(benefit.amount, ast.Number):
            return None
        return f"'value {benefit.amount.text} off' without 'cap'"
    return "'free shipping' without 'cap'"


def _needs_cap(
    label: str,
    terms: _Terms,
    budgets: Sequence[Sequence[ast.BudgetItem]],
    env: RewardEnv,
) -> None:
    """Report a coupon without face value once, at the nearest budget it counts against."""
    if terms.no_face_value is None:
        return
    for level in budgets:
        if level:
            env.report.error(
                f"{label} needs a cap to count against a budget: "
                f"{terms.no_face_value} has no face value",
                keyword_span(level[0].span, "budget"),
            )
            return


def _collect(
    terms: _Terms, items: Sequence[ast.Node], reward: tuple[str, ast.Name], facts: RewardFacts
) -> None:
    if terms.offer is not None:
        facts.offers.append(terms.offer)
    facts.has_limit |= any(isinstance(item, ast.LimitItem) for item in items)
    if not any(isinstance(item, ast.StockItem | ast.BudgetItem) for item in items):
        facts.unbounded.append(reward)
