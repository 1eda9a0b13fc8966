"""Operator endpoints for campaigns: what is loaded, its state and live counters, and pause
and resume (LANGUAGE.md 10.8). A pause is written to the store first and is seen by this
worker at once and by every other worker within a second."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.deps import Operator, Service
from api.errors import ApiError
from api.openapi import responses
from api.schemas import CampaignList, CampaignView, PauseResult
from dsl.localtime import iso
from engine.money import format_money
from engine.registry import Loaded

router = APIRouter(prefix="/v1/campaigns", tags=["operators"])
CampaignId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        examples=["coupon_centre"],
    ),
]


def state(svc: Service, loaded: Loaded) -> str:
    """ended, paused, scheduled or live: the first that holds, in that order."""
    now, window = svc.engine.clock.now(), loaded.campaign.window
    if now > window.end:
        return "ended"
    if svc.engine.is_paused(loaded.ruleset.id, loaded.campaign.id):
        return "paused"
    return "scheduled" if now < window.start else "live"


async def view(svc: Service, loaded: Loaded) -> dict[str, Any]:
    ruleset, campaign = loaded.ruleset, loaded.campaign
    tz, k = ruleset.tz, ruleset.minor_units
    return {
        "id": campaign.id,
        "title": campaign.title,
        "ruleset": ruleset.id,
        "version": svc.versions.served.get(ruleset.id),
        "kind": campaign.kind,
        "stage": campaign.stage,
        "group": campaign.group_name,
        "priority": campaign.priority,
        "tier": campaign.tier,
        "goal": campaign.goal,
        "window": {"start": iso(campaign.window.start, tz), "end": iso(campaign.window.end, tz)},
        "state": state(svc, loaded),
        "rewards": [
            {
                "id": reward.id,
                "title": reward.title,
                "kind": reward.kind,
                "face_value": None
                if reward.face_value is None
                else format_money(reward.face_value, k),
            }
            for reward in campaign.rewards
        ],
        "counters": await svc.engine.counters(campaign.id),
    }


def _money(minor: int | None, k: int) -> str | None:
    return None if minor is None else format_money(minor, k)


def _loaded(svc: Service, campaign_id: str) -> Loaded:
    loaded = svc.engine.registry.campaign(campaign_id)
    if loaded is None:
        raise ApiError("unknown_campaign", f"no campaign '{campaign_id}' is loaded", field="id")
    return loaded


@router.get("", response_model=CampaignList, responses=responses(401, 403, 503))
async def list_campaigns(svc: Operator) -> dict[str, Any]:
    """Every loaded campaign, in evaluation order, with its state and live counters."""
    everything = [
        loaded
        for ruleset in svc.engine.registry.rulesets()
        for c in ruleset.campaigns
        if (loaded := svc.engine.registry.campaign(c.id)) is not None
    ]
    everything.sort(key=lambda loaded: loaded.order)
    return {"campaigns": [await view(svc, loaded) for loaded in everything]}


@router.get("/{id}", response_model=CampaignView, responses=responses(401, 403, 404, 422, 503))
async def get_campaign(id: CampaignId, svc: Operator) -> dict[str, Any]:
    """One campaign: definition summary, state (scheduled, live, paused, ended) and live
    counters (issued, redeemed, stock left per period, budget spent, rejections)."""
    return await view(svc, _loaded(svc, id))


async def _set_paused(svc: Service, campaign_id: str, paused: bool) -> dict[str, Any]:
    loaded = _loaded(svc, campaign_id)
    if paused:
        await svc.engine.pause(campaign_id)
    else:
        await svc.engine.resume(campaign_id)
    return {"campaign": campaign_id, "paused": paused, "state": state(svc, loaded)}


_PAUSE_ERRORS = responses(401, 403, 404, 422, 503)


@router.post("/{id}/pause", response_model=PauseResult, responses=_PAUSE_ERRORS)
async def pause(id: CampaignId, svc: Operator) -> dict[str, Any]:
    """Pause: claims are refused with `paused` and evaluate gives no discount (explained
    `paused`); issued coupons can still be redeemed. Pausing twice changes nothing."""
    return await _set_paused(svc, id, True)


@router.post("/{id}/resume", response_model=PauseResult, responses=_PAUSE_ERRORS)
async def resume(id: CampaignId, svc: Operator) -> dict[str, Any]:
    """Resume a paused campaign. Resuming a running one changes nothing."""
    return await _set_paused(svc, id, False)
