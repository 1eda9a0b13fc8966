"""The pre-launch analysis of `promo explain`: problems a ruleset has before any request.

Each finding names its campaigns and says why; only what is certain from the rules is
reported (a finding never depends on a cart, a clock or a pause):

- tiers: a tier that saves no more than the one below it, or that a cap makes equal to
  it (it is never reached in effect);
- groups: a member that can never be the offer its group chooses (LANGUAGE.md 10.1
  step 4): gifts and points next to money, and a discount always worth less than
  another that applies whenever it does;
- quotas: a claimable campaign with no limit, no stock and no budget;
- the worst case (bounds.py): the most the automatic discounts take off one cart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any

from dsl import model as M
from dsl.bounds import at_most, guaranteed, threshold, tier_value, worst_case
from dsl.offers import save
from dsl.phrases import amount, join, money


@dataclass(frozen=True, slots=True)
class Rules:
    """A campaign's `when` and `deny when` conditions, as canonical text."""

    when: frozenset[str]
    deny: frozenset[str]


def analyse(compiled: M.CompiledRuleset, rules: Mapping[str, Rules]) -> list[dict[str, Any]]:
    """Every finding, in file order of the campaigns they name; the worst case last."""
    k = compiled.minor_units
    found: list[dict[str, Any]] = []
    for c in compiled.campaigns:
        found += tier_findings(c, k)
    found += group_findings(compiled.campaigns, rules, k)
    found += [_finding("quota", [c.id], _unbounded_claims(c)) for c in compiled.campaigns]
    found = [f for f in found if f["message"]]
    return [*found, worst_case(compiled.campaigns, k)]


def _finding(kind: str, campaigns: list[str], message: str) -> dict[str, Any]:
    return {"kind": kind, "campaigns": campaigns, "message": message}


# --- tiers --------------------------------------------------------------------------------


def tier_findings(c: M.Campaign, k: int) -> list[dict[str, Any]]:
    terms = c.discount
    if terms is None or not isinstance(terms.benefit, M.SpendTiers | M.QtyTiers):
        return []
    spend = isinstance(terms.benefit, M.SpendTiers)
    tiers = terms.benefit.tiers
    out = []
    before: int | Fraction
    at: int | Fraction
    for (low, low_save), (high, high_save) in pairwise(tiers):
        names = (_tier(spend, low, low_save, k), _tier(spend, high, high_save, k))
        if spend:
            # What the lower tier gives just below the higher threshold, against what
            # the higher tier gives at it: spending more must save more.
            before, at = tier_value(low_save, high - 1), tier_value(high_save, high)
        elif low_save.amount is not None and high_save.amount is not None:
            before, at = low_save.amount, high_save.amount
        elif low_save.percent is not None and high_save.percent is not None:
            before, at = low_save.percent, high_save.percent  # of the same kind of cart
        else:
            continue  # an amount against a percentage of an unknown cart: not certain
        if at <= before:
            why = f"`{names[1]}` saves no more than `{names[0]}`"
            if isinstance(before, int) and low_save.percent is not None:
                why += f" does just below {amount(high, k)} ({money(before, k)})"
            out.append(_finding("tiers", [c.id], f"{c.id}: {why}; spending more should save more"))
        elif terms.cap is not None and isinstance(before, int) and terms.cap <= before:
            why = f"`{names[1]}` is never reached in effect: the cap {amount(terms.cap, k)}"
            why += f" already holds `{names[0]}` at {money(terms.cap, k)}"
            out.append(_finding("tiers", [c.id], f"{c.id}: {why}"))
            break  # every tier above it is capped the same way
    return out


def _tier(spend: bool, threshold: int, saved: M.Save, k: int) -> str:
    start = f"spend {amount(threshold, k)}" if spend else f"qty {threshold}"
    return f"{start} save {save(saved, k)}"


# --- groups -------------------------------------------------------------------------------


def group_findings(
    campaigns: tuple[M.Campaign, ...], rules: Mapping[str, Rules], k: int
) -> list[dict[str, Any]]:
    groups: dict[str, list[M.Campaign]] = {}
    for c in campaigns:
        if c.group_name is not None:
            groups.setdefault(c.group, []).append(c)
    out = []
    for members in groups.values():
        out += _gifts_next_to_money(members)
        for loser in members:
            for winner in members:
                message = _dominated(loser, winner, rules, k)
                if message:
                    out.append(_finding("group", [loser.id, winner.id], message))
                    break
    return out


def _gifts_next_to_money(members: list[M.Campaign]) -> list[dict[str, Any]]:
    money_offers = [c.id for c in members if _gives_money(c)]
    out = []
    for c in members:
        if c.discount is not None and isinstance(c.discount.benefit, M.Gift | M.Points):
            what = "a gift" if isinstance(c.discount.benefit, M.Gift) else "points"
            if money_offers:
                message = (
                    f"{c.id} gives {what}, worth 0.00 when group {c.group_name} picks its"
                    f" largest offer: it loses whenever {join(money_offers, 'or')} applies"
                    " with an amount above 0"
                )
                out.append(_finding("group", [c.id, *money_offers], message))
    return out


def _gives_money(c: M.Campaign) -> bool:
    if c.discount is not None:
        return not isinstance(c.discount.benefit, M.Gift | M.Points)
    if c.lottery is not None:
        return any(p.coupon is not None for p in c.lottery.prizes)
    return bool(c.rewards)


def _dominated(a: M.Campaign, b: M.Campaign, rules: Mapping[str, Rules], k: int) -> str:
    """Why automatic discount `a` can never be chosen over `b` in their group, or ""."""
    if a is b or a.discount is None or b.discount is None or not _covers(b, a, rules):
        return ""
    most = at_most(a.discount)
    if most is None or isinstance(a.discount.benefit, M.Gift | M.Points | M.FreeShipping):
        return ""
    least = threshold(a.discount)
    sure = guaranteed(b.discount, least)
    if sure is None or sure < most:
        return ""
    b_wins_ties = (b.priority, -b.index) > (a.priority, -a.index)
    # Equal amounts (a small cart gives both its whole amount) go to the tie-break.
    if not (b_wins_ties or (sure > most and least > most)):
        return ""
    return (
        f"{a.id} can never win group {a.group_name}: whenever it applies, {b.id} applies too"
        f" and gives at least {money(sure, k)}, while {a.id} gives at most {money(most, k)}"
        + (" (and wins ties)" if sure == most else "")
    )


def _covers(b: M.Campaign, a: M.Campaign, rules: Mapping[str, Rules]) -> bool:
    """`b` applies to every request and line that `a` applies to: a window at least as
    long, the same schedule or none, fewer conditions, the same item filter or none."""
    assert a.discount is not None and b.discount is not None
    ra, rb = rules.get(a.id), rules.get(b.id)
    return (
        ra is not None
        and rb is not None
        and b.window.start <= a.window.start
        and b.window.end >= a.window.end
        and (not b.schedule or b.schedule == a.schedule)
        and rb.when <= ra.when
        and rb.deny <= ra.deny
        and (b.discount.filter is None or b.discount.filter == a.discount.filter)
    )


# --- quotas -------------------------------------------------------------------------------


def _unbounded_claims(c: M.Campaign) -> str:
    if c.kind == "automatic" or c.limits or c.budgets:
        return ""
    if any(r.stocks or r.budgets or r.limits for r in c.rewards):
        return ""
    if c.lottery is not None and all(p.stocks for p in c.lottery.prizes):
        return ""
    return (
        f"{c.id} can be claimed without end: no limit, no stock and no budget, so every"
        " eligible user, device or script may claim it again and again"
    )
