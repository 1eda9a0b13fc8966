"""The rulesets an engine has loaded, and what it derives from them once per load
(LANGUAGE.md 10.9): campaigns by id, evaluation order per currency, routing tags, and the
frozen terms of every coupon any loaded version could have issued."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsl.errors import Diagnostic, RuleError, Span, error
from dsl.model import Campaign, CompiledRuleset, CouponSpec, Terms
from engine.codes import route_tag
from engine.issuance import Placement, issue_record, read_issue_record
from engine.store import Scope

if TYPE_CHECKING:
    from engine.evaluation import Plan


@dataclass(frozen=True, slots=True)
class Loaded:
    """A campaign of an active ruleset, with what the hot path needs beside it."""

    ruleset: CompiledRuleset
    campaign: Campaign
    scope: Scope

    @property
    def order(self) -> tuple[int, str, int]:
        """Evaluation order (10.1 step 1): higher priority, then ruleset id, then file order."""
        return (-self.campaign.priority, self.ruleset.id, self.campaign.index)


def coupon_specs(campaign: Campaign) -> Iterator[CouponSpec]:
    for reward in campaign.rewards:
        yield from reward.coupons
    if campaign.lottery is not None:
        for prize in campaign.lottery.prizes:
            if prize.coupon is not None:
                yield prize.coupon


class Registry:
    def __init__(self) -> None:
        self._rulesets: dict[str, CompiledRuleset] = {}
        self._campaigns: dict[str, Loaded] = {}
        self._order: dict[str, tuple[Loaded, ...]] = {}
        # Every campaign version seen, so that a coupon keeps its group and stage after its
        # campaign left the active version (7.6), and its terms stay known.
        self._history: dict[str, Loaded] = {}
        self.terms: dict[str, Terms] = {}
        # The campaign (as the issuing version placed it) behind each terms id.
        self._issuers: dict[str, Campaign] = {}
        self._terms_ids: dict[tuple[str, str, str], str] = {}
        self._tag_terms: dict[str, dict[str, Terms]] = {}
        self._by_tag: dict[str, dict[str, Loaded]] = {}
        self._currencies: frozenset[str] = frozenset()
        # What evaluate derives per currency from the loaded campaigns (engine/evaluation.py
        # makes them on first use); dropped whenever the loaded campaigns change.
        self.plans: dict[str, Plan] = {}

    # --- loading ----------------------------------------------------------------------------

    def plan(self, ruleset: CompiledRuleset) -> dict[str, str]:
        """Check that `ruleset` can be loaded, and return the frozen terms (id -> text) of
        its coupons that are new here, for the store. Raises RuleError when a campaign id
        belongs to another loaded ruleset (10.9)."""
        self._check_unique(ruleset)
        new_terms: dict[str, str] = {}
        for campaign in ruleset.campaigns:
            for spec in coupon_specs(campaign):
                terms_id, text = issue_record(spec, ruleset, campaign)
                if terms_id not in self.terms:
                    new_terms[terms_id] = text
        return new_terms

    def install(self, ruleset: CompiledRuleset) -> None:
        """Make `ruleset` the active version of its id (after `plan`)."""
        self._check_unique(ruleset)
        for campaign in ruleset.campaigns:
            tag = route_tag(campaign.id)
            for spec in coupon_specs(campaign):
                terms_id, text = issue_record(spec, ruleset, campaign)
                self._terms_ids[(ruleset.fingerprint, campaign.id, spec.id)] = terms_id
                # The thawed terms, not the ruleset's: their filter reads item attributes
                # on its own, as it must for a coupon redeemed under any later version.
                if terms_id not in self.terms:
                    self.terms[terms_id] = read_issue_record(text)[0]
                self._issuers[terms_id] = campaign
                self._tag_terms.setdefault(tag, {})[terms_id] = self.terms[terms_id]
        old = self._rulesets.get(ruleset.id)
        if old is not None:
            for campaign in old.campaigns:
                self._campaigns.pop(campaign.id, None)
        self._rulesets[ruleset.id] = ruleset
        for campaign in ruleset.campaigns:
            loaded = Loaded(
                ruleset, campaign, Scope(ruleset.id, campaign.id, route_tag(campaign.id))
            )
            self._campaigns[campaign.id] = loaded
            self._history[campaign.id] = loaded
            self._by_tag.setdefault(loaded.scope.tag, {})[campaign.id] = loaded
        self._reorder()

    def _check_unique(self, ruleset: CompiledRuleset) -> None:
        problems: list[Diagnostic] = []
        for campaign in ruleset.campaigns:
            other = self._campaigns.get(campaign.id)
            if other is not None and other.ruleset.id != ruleset.id:
                line, column = ruleset.positions.get(campaign.id, (1, 1))
                span = Span(line, column, line, column + len(campaign.id), ruleset.file)
                message = (
                    f"duplicate campaign '{campaign.id}' (already loaded from {other.ruleset.file})"
                )
                problems.append(error(message, span))
        if problems:
            raise RuleError(problems)

    def remove(self, ruleset_id: str) -> None:
        ruleset = self._rulesets.pop(ruleset_id, None)
        if ruleset is not None:
            for campaign in ruleset.campaigns:
                self._campaigns.pop(campaign.id, None)
            self._reorder()

    def learn_terms(self, tag: str, terms_id: str, text: str) -> Terms:
        """Terms read back from the store (a coupon issued by a version never loaded here)."""
        terms, placement = read_issue_record(text)
        self.terms[terms_id] = terms
        self._tag_terms.setdefault(tag, {})[terms_id] = terms
        issuer = self._placed(placement)
        if issuer is not None:
            self._issuers[terms_id] = issuer
        return terms

    def _placed(self, placement: Placement) -> Campaign | None:
        """A version of the campaign this process knows, placed as `placement` says."""
        known = self._history.get(placement.campaign)
        if known is None:
            return None
        return dataclasses.replace(
            known.campaign, stage=placement.stage, group=placement.group,  # type: ignore[arg-type]
            group_name=placement.group_name, priority=placement.priority, index=placement.index,
        )  # fmt: skip

    def coupon_campaign(self, campaign_id: str, terms_id: str) -> Campaign | None:
        """The campaign a coupon competes in: the active version's, else the issuing one's."""
        active = self._campaigns.get(campaign_id)
        if active is not None:
            return active.campaign
        return self._issuers.get(terms_id)

    def _reorder(self) -> None:
        by_currency: dict[str, list[Loaded]] = {}
        for loaded in self._campaigns.values():
            by_currency.setdefault(loaded.ruleset.currency, []).append(loaded)
        self._order = {
            cur: tuple(sorted(ls, key=lambda x: x.order)) for cur, ls in by_currency.items()
        }
        self._currencies = frozenset(self._order)
        self.plans = {}

    # --- lookups ------------------------------------------------------------------------------

    def campaign(self, campaign_id: str) -> Loaded | None:
        return self._campaigns.get(campaign_id)

    def historic(self, campaign_id: str) -> Loaded | None:
        """The active version of a campaign, or the last one seen when it is gone."""
        return self._campaigns.get(campaign_id) or self._history.get(campaign_id)

    def rulesets(self) -> tuple[CompiledRuleset, ...]:
        return tuple(self._rulesets.values())

    def ruleset(self, ruleset_id: str) -> CompiledRuleset | None:
        return self._rulesets.get(ruleset_id)

    def currencies(self) -> frozenset[str]:
        return self._currencies

    def in_currency(self, currency: str) -> tuple[Loaded, ...]:
        """The campaigns of every loaded ruleset in `currency`, in evaluation order."""
        return self._order.get(currency, ())

    def terms_id(self, ruleset: CompiledRuleset, campaign: Campaign, spec: CouponSpec) -> str:
        return self._terms_ids[(ruleset.fingerprint, campaign.id, spec.id)]

    def tagged(self, tag: str) -> tuple[Loaded, ...]:
        """Every campaign seen whose routing tag is `tag` (usually one)."""
        return tuple(self._by_tag.get(tag, {}).values())

    def terms_for_tag(self, tag: str) -> dict[str, Terms]:
        return self._tag_terms.get(tag, {})
