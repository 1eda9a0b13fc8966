"""Evaluate (LANGUAGE.md 10.1): the engine's part around the pure cart computation.

Steps 1 and 2 happen here (evaluation order, rule checks with one generated function per
ruleset), the store is read for the claimable preview and the supplied coupons, and
engine/evaluate.py computes stages, groups, allocation, nudges and explanations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dsl.context import Bound, Context, ContextError
from dsl.model import CompiledRuleset
from dsl.vocabulary import CURRENCIES
from engine.claims import referral_check, status_reason, timing_refusal
from engine.context import parse_context, resolve_currency
from engine.errors import RequestError
from engine.evaluate import Explanation, OfferInput, evaluate_cart, to_json
from engine.preview import preview
from engine.registry import Loaded
from engine.supplied import check_coupons

if TYPE_CHECKING:
    from engine.engine import Engine


def _request(request: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], bool]:
    raw = request.get("context")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RequestError.invalid("context", "must be an object")
    codes = request.get("coupons") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise RequestError.invalid("coupons", "must be a list of coupon codes")
    explain = request.get("explain", False)
    if not isinstance(explain, bool):
        raise RequestError.invalid("explain", "must be true or false")
    return raw, codes, explain


def _context(engine: Engine, raw: dict[str, Any], now: int) -> Context:
    try:
        currency = resolve_currency(raw.get("cart"), engine.registry.currencies())
        return parse_context(raw, now=now, currency=currency, minor_units=CURRENCIES[currency])
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc


def _bind(rulesets: Sequence[CompiledRuleset], ctx: Context) -> dict[str, Bound]:
    """Every ruleset considered checks the context against its `context` block (10.9)."""
    try:
        return {r.id: r.bind(ctx) for r in rulesets}
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc


async def evaluate(engine: Engine, request: Mapping[str, Any], now: int) -> dict[str, Any]:
    raw, codes, explain = _request(request)
    ctx = _context(engine, raw, now)
    considered = engine.registry.in_currency(ctx.currency)
    rulesets = {loaded.ruleset.id: loaded.ruleset for loaded in considered}
    bounds = _bind(list(rulesets.values()), ctx)
    lists = engine.cache.view
    statuses = {rid: r.check_all(ctx, bounds[rid], lists) for rid, r in rulesets.items()}
    offers: list[OfferInput] = []
    claimable: list[Loaded] = []
    explanations: list[Explanation] = []
    for order, loaded in enumerate(considered):
        campaign, rid = loaded.campaign, loaded.ruleset.id
        reason = (
            timing_refusal(loaded, engine.is_paused(rid, campaign.id), now)
            or referral_check(campaign, ctx)
            or status_reason(statuses[rid][campaign.index])
        )
        if reason is not None:
            explanations.append(Explanation(campaign.id, reason))
        elif campaign.kind == "automatic":
            offers.append(OfferInput(campaign, bounds[rid], order))
        else:
            claimable.append(loaded)
    entries = await preview(engine.store, claimable, ctx, now)
    positions = {loaded.campaign.id: i for i, loaded in enumerate(considered)}
    coupons = await check_coupons(
        engine.registry, engine.store, codes, ctx, positions, engine.is_paused
    )
    outcome = evaluate_cart(ctx, CURRENCIES[ctx.currency], offers, coupons, lists, explain)
    if explain:
        explanations += [
            Explanation(e["campaign"], e["reason"], e.get("reward"))
            for e in entries
            if not e["available"]
        ]
    return to_json(outcome, claimable=entries, explanations=explanations if explain else ())
