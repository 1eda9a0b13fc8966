"""Candidates and groups (LANGUAGE.md 10.1 steps 3-4): at most one offer per group.

What the engine hands to evaluate: `OfferInput` (an automatic campaign that passed its
rule checks) and `CouponInput` (a supplied coupon after its store checks); what it says
back besides discounts: `Explanation` and `Nudge`. A `Discount` is one offer computed on
its stage's base amounts: an automatic discount or a supplied coupon. It is a candidate
of its stage; `choose` keeps the best of each group and, once chosen and bounded
(allocate.py), it is a discount of the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import NamedTuple

from dsl.context import NO_ATTRIBUTES, Bound
from dsl.model import Campaign, Gift, Terms

EVALUATION_ORDER = attrgetter("order")


class OfferInput(NamedTuple):
    """An automatic campaign that passed its rule checks, with its ruleset's attributes
    for this request and its place in evaluation order."""

    campaign: Campaign
    bound: Bound
    order: int


class CouponInput(NamedTuple):
    """A supplied coupon. `campaign` gives the stage, group, priority and file position
    (the active version's, 10.9), `terms` are those it was issued with. With `reason`
    (unknown_code, not_owner, paused, already_redeemed, not_yet_valid, expired, or
    no_applicable_items for another currency) it is only explained; `campaign` may then
    be None (unknown_code)."""

    code: str
    campaign: Campaign | None
    reward: str | None
    terms: Terms | None
    valid_until: int
    order: int
    bound: Bound = NO_ATTRIBUTES
    reason: str | None = None


class Explanation(NamedTuple):
    """Why an offer does not apply: `{campaign, reward?, code?, reason}`."""

    campaign: str | None
    reason: str
    reward: str | None = None
    code: str | None = None


class Nudge(NamedTuple):
    """Spend `spend_more` more (minor units) to save `save`: `{campaign, code?, ...}`."""

    campaign: str
    spend_more: int
    save: int
    code: str | None = None


class Discount:
    """An offer of one request. `order` is the campaign's place in evaluation order (10.1
    step 1; a supplied coupon has its campaign's); `lines` are the applicable lines;
    `amount` is in minor units, lowered by the line bound when chosen. `code`, `reward`
    and `valid_until` are set for a supplied coupon only."""

    __slots__ = (
        "amount",
        "campaign",
        "code",
        "free_shipping",
        "gift",
        "lines",
        "order",
        "points",
        "reward",
        "valid_until",
    )

    def __init__(
        self,
        campaign: Campaign,
        order: int,
        lines: tuple[int, ...],
        amount: int,
        points: int,
        gift: Gift | None,
        free_shipping: bool,
        code: str | None = None,
        reward: str | None = None,
        valid_until: int = 0,
    ) -> None:
        self.campaign = campaign
        self.order = order
        self.lines = lines
        self.amount = amount
        self.points = points
        self.gift = gift
        self.free_shipping = free_shipping
        self.code = code
        self.reward = reward
        self.valid_until = valid_until

    @property
    def stage(self) -> str:
        """The stage the answer reports: the campaign's, or `shipping` for free shipping."""
        return "shipping" if self.free_shipping else self.campaign.stage

    def __repr__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"<Discount {self.campaign.id}{code} {self.amount} ({self.stage})>"


def choose(candidates: Sequence[Discount]) -> tuple[list[Discount], list[Discount]]:
    """(the best candidate of each group in evaluation order, the others). Groups are
    independent, so this is the best combination of the stage (10.1 step 4)."""
    best: dict[str, Discount] = {}
    beaten: list[Discount] = []
    for candidate in candidates:
        group = candidate.campaign.group
        held = best.get(group)
        if held is None:
            best[group] = candidate
        elif beats(candidate, held):
            best[group] = candidate
            beaten.append(held)
        else:
            beaten.append(candidate)
    chosen = list(best.values())
    if len(chosen) > 1:
        chosen.sort(key=EVALUATION_ORDER)
    return chosen, beaten


def beats(a: Discount, b: Discount) -> bool:
    """Whether `a` wins a group over `b`: the larger amount; then the higher priority; the
    earlier campaign in the file; of two coupons of one campaign the one whose validity
    ends first, then the smaller code."""
    if a.amount != b.amount:
        return a.amount > b.amount
    ca, cb = a.campaign, b.campaign
    if ca.priority != cb.priority:
        return ca.priority > cb.priority
    if ca.index != cb.index:
        return ca.index < cb.index
    if a.valid_until != b.valid_until:
        return a.valid_until < b.valid_until
    return (a.code or "") < (b.code or "")
