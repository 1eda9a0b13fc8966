"""What is checked once every campaign of a file is: stacking groups (LANGUAGE.md 7.6,
10.1), which live in one stage, and the warnings of 11.4 that look at a whole campaign or
the whole file. Warnings never fail compilation; each points at a rule that probably
does not do what the operator meant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dsl import ast
from dsl.report import Report, keyword_span
from dsl.structure import CampaignFacts


def check_groups(campaigns: Sequence[CampaignFacts], report: Report) -> None:
    groups: dict[str, list[CampaignFacts]] = {}
    for facts in campaigns:
        if facts.group is not None:
            groups.setdefault(facts.group.name.text, []).append(facts)
    for name, members in groups.items():
        _check_stage(name, members, report)
        _warn_losing_gifts(name, members, report)


def _check_stage(name: str, members: list[CampaignFacts], report: Report) -> None:
    """Every campaign of the group in the stage of its first campaign (in file order)."""
    first = members[0]
    if first.stage is None:
        return  # its stage word is misspelt: already reported, nothing to compare with
    line = first.campaign.name.span.line
    for facts in members[1:]:
        if facts.stage is None or facts.stage == first.stage or facts.group is None:
            continue
        report.error(
            f"group '{name}' is in stage {first.stage} at line {line}; all campaigns of a "
            f"group share one stage (campaign '{facts.campaign.name.text}' is in stage "
            f"{facts.stage})",
            keyword_span(facts.group.span, "group"),
        )


def _warn_losing_gifts(name: str, members: list[CampaignFacts], report: Report) -> None:
    """A group applies its largest amount; a gift or points discount has amount 0."""
    money = next(
        (m for m in members if {"money", "shipping"} & set(m.rewards.offers)),
        None,
    )
    if money is None:
        return
    for facts in members:
        offers = facts.rewards.offers
        if facts.kind != "automatic" or not offers or offers[0] not in ("gift", "points"):
            continue
        if facts.group is None or facts is money:
            continue
        report.warn(
            f"the {offers[0]} discount of campaign '{facts.campaign.name.text}' is in group "
            f"'{name}' with the money offer of campaign '{money.campaign.name.text}': a group "
            "applies its largest amount, so it always loses",
            keyword_span(facts.group.span, "group"),
        )


def warn_campaign(facts: CampaignFacts, report: Report) -> None:
    name = facts.campaign.name
    rewards = facts.rewards
    if facts.kind == "claimable" and not rewards.has_limit:
        report.warn(
            f"campaign '{name.text}' is claimable but has no limit: "
            "one user can claim it again and again",
            name.span,
        )
    if not facts.has_budget:
        for word, reward in rewards.unbounded:
            report.warn(
                f"{word} '{reward.text}' has neither stock nor budget: "
                "nothing bounds how many are issued",
                reward.span,
            )
    stage = facts.stage_item
    if stage is not None and rewards.offers and set(rewards.offers) == {"shipping"}:
        report.warn(
            "'stage' of a free-shipping campaign only sets the base of its min spend: "
            "free shipping is always applied in the final shipping stage",
            keyword_span(stage.span, "stage"),
        )


def warn_unused_segments(segments: Iterable[ast.Segment], used: set[str], report: Report) -> None:
    for segment in segments:
        if segment.name.text not in used:
            report.warn(f"segment '{segment.name.text}' is never used", segment.name.span)
