"""Redeem and revert (LANGUAGE.md 10.4, 10.5): one store step each.

A coupon's terms were frozen when it was issued, and the store keeps only their id. So
that a redeem is still one round trip, the engine computes this cart's verdict under every
terms id the coupon's routing tag can have (usually one or two), and the store picks the
coupon's. A terms id this process has never seen (a coupon of a version loaded elsewhere)
costs one more round trip, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl.context import Context, ContextError
from dsl.model import Terms
from dsl.vocabulary import CURRENCIES
from engine.benefits import redeem_verdict
from engine.codes import is_well_formed, tag_of
from engine.context import parse_context
from engine.errors import RequestError
from engine.money import format_money
from engine.registry import Registry
from engine.stats import OutcomeStats
from engine.store import CounterStore, CouponRecord, RedeemResult, RedeemStep, RevertStep


def _code(request: Mapping[str, Any]) -> str:
    code = request.get("code")
    if not isinstance(code, str) or not code:
        raise RequestError.invalid("code", "a coupon code is required")
    return code


def _user(request: Mapping[str, Any]) -> str:
    user = request.get("user")
    if isinstance(user, dict):
        user = user.get("id")
    if not isinstance(user, str) or not user:
        raise RequestError.invalid("user", "a redeem needs the user's id")
    return user


def _currency(registry: Registry, tag: str | None, cart: Any) -> str:
    """The coupon's currency, as far as its routing tag tells; the cart must have it."""
    currencies = (
        {loaded.ruleset.currency for loaded in registry.tagged(tag)} if tag is not None else set()
    )
    sent = cart.get("currency") if isinstance(cart, dict) else None
    if currencies:
        currency = sorted(currencies)[0]
        if sent is not None and sent not in currencies:
            raise RequestError.invalid("cart.currency", f"the coupon's currency is {currency}")
        return currency
    if isinstance(sent, str) and sent in CURRENCIES:
        return sent
    loaded = registry.currencies()
    if len(loaded) == 1:
        return next(iter(loaded))
    raise RequestError.invalid("cart.currency", "say which currency the cart is in")


def _cart_context(cart: Any, user: str, currency: str, now: int) -> Context:
    if cart is not None and not isinstance(cart, dict):
        raise RequestError.invalid("cart", "must be an object")
    raw = {"user": {"id": user}, "cart": cart or {"items": []}}
    try:
        return parse_context(raw, now=now, currency=currency, minor_units=CURRENCIES[currency])
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc


def _verdict(terms: Terms, ctx: Context) -> str:
    amount, reason = redeem_verdict(terms, ctx)
    return reason if reason is not None else str(amount)


async def redeem(
    registry: Registry,
    store: CounterStore,
    stats: OutcomeStats,
    request: Mapping[str, Any],
    now: int,
) -> dict[str, Any]:
    code, user = _code(request), _user(request)
    order = request.get("order")
    if order is not None and (not isinstance(order, str) or not order):
        raise RequestError.invalid("order", "an order id is a non-empty string")
    tag = tag_of(code) if is_well_formed(code) else None
    currency = _currency(registry, tag, request.get("cart"))
    ctx = _cart_context(request.get("cart"), user, currency, now)
    if tag is None:
        return {"status": "rejected", "reason": "unknown_code", "replayed": False}
    verdicts = {tid: _verdict(t, ctx) for tid, t in registry.terms_for_tag(tag).items()}
    log = {"type": "redeem", "code": code, "user": user, "order": order or "", "time": now}
    step = RedeemStep(tag, code, user, order, verdicts, log)
    result = await store.redeem(step, now)
    if result.status == "need_terms" and result.coupon is not None:
        terms_id = result.coupon.terms
        texts = await store.get_terms([terms_id])
        if terms_id in texts:
            terms = registry.learn_terms(tag, terms_id, texts[terms_id])
            verdicts[terms_id] = _verdict(terms, ctx)
            result = await store.redeem(RedeemStep(tag, code, user, order, verdicts, log), now)
    _note(registry, stats, "redeem:", result.coupon, result.reason or result.status)
    return _redeem_json(registry, result, code, currency)


def _note(
    registry: Registry, stats: OutcomeStats, kind: str, coupon: CouponRecord | None, what: str
) -> None:
    """Redemptions and reverts by outcome, for the campaign's live counters."""
    loaded = registry.historic(coupon.campaign) if coupon is not None else None
    if loaded is not None:
        stats.note(loaded.scope, kind + what)


def _redeem_json(
    registry: Registry, result: RedeemResult, code: str, currency: str
) -> dict[str, Any]:
    if result.status in ("redeemed", "replayed"):
        minor_units = CURRENCIES[currency]
        if result.coupon is not None:
            loaded = registry.historic(result.coupon.campaign)
            if loaded is not None:
                minor_units = loaded.ruleset.minor_units
        return {
            "status": "redeemed",
            "code": code,
            "amount": format_money(result.amount or 0, minor_units),
            "replayed": result.status == "replayed",
        }
    if result.status == "need_terms":
        raise RuntimeError(f"the terms of coupon {code} are missing from the store")
    return {"status": "rejected", "reason": result.reason, "replayed": False}


async def revert(
    registry: Registry,
    store: CounterStore,
    stats: OutcomeStats,
    request: Mapping[str, Any],
    now: int,
) -> dict[str, Any]:
    code = _code(request)
    if not is_well_formed(code):
        return {"status": "rejected", "reason": "unknown_code"}
    result = await store.revert(
        RevertStep(tag_of(code), code, {"type": "revert", "code": code, "time": now}), now
    )
    _note(registry, stats, "revert:", result.coupon, result.reason or result.status)
    if result.status == "reverted":
        return {"status": "reverted", "code": code}
    return {"status": "rejected", "reason": result.reason}
