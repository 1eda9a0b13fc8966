"""Coupons supplied to evaluate (LANGUAGE.md 10.1 step 3): checked as a redeem would check
them, without redeeming, then computed by evaluate on the stage's base amounts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from dsl.context import Context
from engine.codes import is_well_formed, tag_of
from engine.registry import Registry
from engine.select import CouponInput
from engine.store import CounterStore, CouponRecord, StoreUnavailable

UNAVAILABLE = "unavailable"


async def check_coupons(
    registry: Registry,
    store: CounterStore,
    codes: Sequence[str],
    ctx: Context,
    order: Mapping[str, int],
    paused: Callable[[str, str], bool],
) -> list[CouponInput]:
    """One input per distinct code, in the order given. `order` maps campaign ids to their
    evaluation-order index."""
    distinct = list(dict.fromkeys(codes))
    wanted = [(tag_of(c), c) for c in distinct if is_well_formed(c)]
    try:
        records = await store.coupons(wanted) if wanted else {}
        await _learn_terms(registry, store, records.values())
    except StoreUnavailable:
        return [_refused(code, UNAVAILABLE) for code in distinct]
    late = len(order)
    return [
        _input(registry, code, records.get(code), ctx, order, paused, late) for code in distinct
    ]


async def _learn_terms(
    registry: Registry, store: CounterStore, records: Iterable[CouponRecord]
) -> None:
    """Terms of coupons issued by a version this process never loaded, read once."""
    missing = {r.terms: r for r in records if r.terms not in registry.terms}
    if missing:
        texts = await store.get_terms(list(missing))
        for terms_id, text in texts.items():
            registry.learn_terms(tag_of(missing[terms_id].code), terms_id, text)


def _refused(code: str, reason: str) -> CouponInput:
    return CouponInput(code, None, None, None, 0, 1 << 30, reason=reason)


def _input(
    registry: Registry,
    code: str,
    record: CouponRecord | None,
    ctx: Context,
    order: Mapping[str, int],
    paused: Callable[[str, str], bool],
    late: int,
) -> CouponInput:
    if record is None:
        return _refused(code, "unknown_code")
    campaign = registry.coupon_campaign(record.campaign, record.terms)
    loaded = registry.historic(record.campaign)
    terms = registry.terms.get(record.terms)
    if campaign is None or loaded is None or terms is None:
        # A coupon of a campaign this engine has never loaded: it cannot place it.
        return _refused(code, "unknown_code")
    reason = _refusal(record, ctx, paused)
    if reason is None and loaded.ruleset.currency != ctx.currency:
        reason = "no_applicable_items"
    position = order.get(record.campaign, late)
    return CouponInput(
        code, campaign, record.reward, terms, record.valid_until, position, reason=reason
    )


def _refusal(record: CouponRecord, ctx: Context, paused: Callable[[str, str], bool]) -> str | None:
    """The redeem checks that need the store, in the order of 10.4, with `paused` right
    after `not_owner` (10.1 step 3)."""
    if record.owner != ctx.user_id:
        return "not_owner"
    if paused(record.ruleset, record.campaign):
        return "paused"
    if record.state == "redeemed":
        return "already_redeemed"
    if ctx.now < record.valid_from:
        return "not_yet_valid"
    if ctx.now > record.valid_until:
        return "expired"
    return None
