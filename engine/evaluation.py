"""Evaluate (LANGUAGE.md 10.1): the engine's part around the pure cart computation.

Steps 1 and 2 happen here (evaluation order, rule checks with one generated function per
ruleset), the store is read for the claimable preview and the supplied coupons, and
engine/evaluate.py computes stages, groups, allocation, nudges and explanations.

What does not change from one request to the next is derived once per loaded set of
rulesets and currency (`Plan`, kept by the registry until the next load): the campaigns
in evaluation order with their window bounds, schedules, time zones and pause keys, the
rulesets to bind and check, and the evaluation-order positions of supplied coupons. The
window and schedule checks depend only on the campaign and the whole second `now`, so a
plan remembers them for the last second it was asked about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dsl.context import Bound, Context, ContextError, Lists
from dsl.model import DENIED, NOT_ELIGIBLE, Campaign, CompiledRuleset
from dsl.vocabulary import CURRENCIES
from engine.claims import referral_refusal
from engine.context import parse_context, resolve_currency
from engine.errors import RequestError
from engine.evaluate import Explanation, OfferInput, evaluate_cart, to_json
from engine.preview import preview
from engine.registry import Loaded, Registry
from engine.schedule import schedule_open
from engine.supplied import check_coupons

if TYPE_CHECKING:
    from engine.engine import Engine

_STATUS_REASONS: tuple[str | None, ...] = (None, "not_eligible", "denied")
assert _STATUS_REASONS[NOT_ELIGIBLE] == "not_eligible" and _STATUS_REASONS[DENIED] == "denied"


class _Entry:
    """One campaign of a plan, with what its rule checks read, resolved once."""

    __slots__ = ("automatic", "campaign", "id", "index", "key", "loaded", "order", "referral",
                 "slot")  # fmt: skip

    def __init__(self, loaded: Loaded, order: int, slot: int) -> None:
        campaign = loaded.campaign
        self.loaded = loaded
        self.campaign = campaign
        self.id = campaign.id
        self.order = order  # its place in evaluation order
        self.slot = slot  # its ruleset's place in `Plan.rulesets`
        self.index = campaign.index  # its place in its ruleset's `check_all` answer
        self.key = (loaded.ruleset.id, campaign.id)  # as the pause cache holds it
        self.referral = campaign.referral
        self.automatic = campaign.kind == "automatic"


def _timing(loaded: Loaded, now: int) -> str | None:
    """Window and schedule (10.1 step 2), the checks that depend only on `now`."""
    campaign: Campaign = loaded.campaign
    window = campaign.window
    if now < window.start:
        return "not_started"
    if now > window.end:
        return "ended"
    if campaign.schedule and not schedule_open(campaign.schedule, window, now, loaded.ruleset.tz):
        return "outside_schedule"
    return None


class Plan:
    """The campaigns of every loaded ruleset in one currency, ready for evaluate."""

    __slots__ = ("_at", "_closed", "_reasons", "entries", "file_order", "minor_units",
                 "positions", "rulesets")  # fmt: skip

    def __init__(self, considered: Sequence[Loaded], minor_units: int) -> None:
        rulesets: dict[str, CompiledRuleset] = {}
        for loaded in considered:
            rulesets.setdefault(loaded.ruleset.id, loaded.ruleset)
        slots = {rid: i for i, rid in enumerate(rulesets)}
        self.rulesets = tuple(rulesets.values())
        self.minor_units = minor_units
        self.entries = tuple(
            _Entry(loaded, order, slots[loaded.ruleset.id])
            for order, loaded in enumerate(considered)
        )
        self.positions = {entry.id: entry.order for entry in self.entries}
        # One ruleset whose evaluation order is its file order and that has no referral
        # campaign: eligibility is then its `passing_all` ids that are open.
        self.file_order = (
            len(self.rulesets) == 1
            and [e.index for e in self.entries] == list(range(len(self.entries)))
            and all(e.referral is None for e in self.entries)
        )
        self._at: int | None = None
        self._reasons: tuple[str | None, ...] = ()
        self._closed: frozenset[str] = frozenset()

    def timing(self, now: int) -> tuple[str | None, ...]:
        """Each entry's window or schedule refusal at `now` (None: open)."""
        if now != self._at:
            reasons = tuple(_timing(entry.loaded, now) for entry in self.entries)
            self._reasons = reasons
            self._closed = frozenset(
                e.id for e, r in zip(self.entries, reasons, strict=True) if r is not None
            )
            self._at = now
        return self._reasons

    def closed(self, now: int) -> frozenset[str]:
        """The ids of the entries whose window or schedule is closed at `now`."""
        if now != self._at:
            self.timing(now)
        return self._closed


def plan_for(registry: Registry, currency: str) -> Plan:
    """The registry's plan for `currency`, made on first use after each load."""
    plan = registry.plans.get(currency)
    if plan is None:
        plan = registry.plans[currency] = Plan(registry.in_currency(currency), CURRENCIES[currency])
    return plan


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


def check_context(
    registry: Registry, raw: dict[str, Any], now: int
) -> tuple[Plan, Context, list[Bound]]:
    """The plan of the cart's currency, the validated context, and each ruleset's bound
    attributes (every ruleset considered checks its `context` block, 10.9)."""
    try:
        currency = resolve_currency(raw.get("cart"), registry.currencies())
        plan = plan_for(registry, currency)
        ctx = parse_context(raw, now=now, currency=currency, minor_units=plan.minor_units)
        bounds = [ruleset.bind(ctx) for ruleset in plan.rulesets]
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc
    return plan, ctx, bounds


def eligible(engine: Engine, raw: dict[str, Any], now: int) -> list[str]:
    """The ids of the campaigns whose rule checks (10.1 step 2) pass for the JSON context
    `raw`, in evaluation order: what evaluate would go on to compute.

    Validation, attribute binding, the window, schedule, pause and referral checks and
    the generated `when` / `deny when` code all run, as in `evaluate`."""
    registry = engine.registry
    paused = engine.cache.paused
    try:
        # `check_context`, with its one-ruleset case written out: this runs per request.
        # A plan exists only for a loaded currency (loads drop them): a cart naming one
        # needs no `resolve_currency`.
        cart = raw.get("cart")
        named = cart.get("currency") if type(cart) is dict else None
        known = registry.plans.get(named) if type(named) is str else None
        if known is not None and type(named) is str:
            plan, currency = known, named
        else:
            currency = resolve_currency(cart, registry.currencies())
            plan = plan_for(registry, currency)
        ctx = parse_context(raw, now=now, currency=currency, minor_units=plan.minor_units)
        if plan.file_order and not paused:
            ruleset = plan.rulesets[0]
            bound = ruleset.bind(ctx)
        else:
            bounds = [ruleset.bind(ctx) for ruleset in plan.rulesets]
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc
    lists = engine.cache.view
    if plan.file_order and not paused:
        # The campaigns whose rules pass, of those open at `now`: no pass over all the
        # campaigns' statuses.
        passing = ruleset.passing_all(ctx, bound, lists)
        closed = plan.closed(now)
        return [i for i in passing if i not in closed] if closed else passing
    statuses_of = [r.check_all(ctx, b, lists) for r, b in zip(plan.rulesets, bounds, strict=True)]
    reasons = _reasons(plan, ctx, statuses_of, paused, now)
    return [entry.id for entry, reason in zip(plan.entries, reasons, strict=True) if reason is None]


def _reasons(
    plan: Plan,
    ctx: Context,
    statuses_of: Sequence[Sequence[int]],
    paused: frozenset[tuple[str, str]],
    now: int,
) -> list[str | None]:
    """Each entry's first failing rule check (10.1 step 2), None when all pass: window,
    schedule, pause, referral, `when`, `deny when`."""
    reasons: list[str | None] = []
    for entry, reason in zip(plan.entries, plan.timing(now), strict=True):
        if reason is None:
            if paused and entry.key in paused:
                reason = "paused"
            elif entry.referral is not None:
                reason = referral_refusal(entry.referral, ctx)
            if reason is None:
                reason = _STATUS_REASONS[statuses_of[entry.slot][entry.index]]
        reasons.append(reason)
    return reasons


async def evaluate(
    engine: Engine, request: Mapping[str, Any], now: int, *, claimable: bool = True
) -> dict[str, Any]:
    """The answer of 10.1. With `claimable=False` the store preview of claimable rewards
    is skipped: `claimable` is empty and their store checks are not explained."""
    raw, codes, explain = _request(request)
    plan, ctx, bounds = check_context(engine.registry, raw, now)
    lists: Lists = engine.cache.view
    statuses_of = [r.check_all(ctx, b, lists) for r, b in zip(plan.rulesets, bounds, strict=True)]
    reasons = _reasons(plan, ctx, statuses_of, engine.cache.paused, now)
    offers: list[OfferInput] = []
    claimables: list[Loaded] = []
    explanations: list[Explanation] = []
    for entry, reason in zip(plan.entries, reasons, strict=True):
        if reason is not None:
            if explain:
                explanations.append(Explanation(entry.id, reason))
        elif entry.automatic:
            offers.append(OfferInput(entry.campaign, bounds[entry.slot], entry.order))
        else:
            claimables.append(entry.loaded)
    entries = (
        await preview(engine.store, engine.plans, claimables, ctx, now)
        if claimable and claimables
        else []
    )
    coupons = (
        await check_coupons(
            engine.registry, engine.store, codes, ctx, plan.positions, engine.is_paused
        )
        if codes
        else []
    )
    outcome = evaluate_cart(ctx, plan.minor_units, offers, coupons, lists, explain)
    if explain:
        explanations += [
            Explanation(e["campaign"], e["reason"], e.get("reward"))
            for e in entries
            if not e["available"]
        ]
    return to_json(outcome, claimable=entries, explanations=explanations)
