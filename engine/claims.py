"""Claim (LANGUAGE.md 10.2): validate, check the rules, then one atomic store step.

Everything that needs no shared state is decided here: the request errors, the rule
checks (window, schedule, pause, referral, `when`, `deny when`), which counters apply,
the period ids, the codes, and the result JSON of every possible outcome. The store then
replays, refuses or commits in one step (one Lua script on Redis).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from random import Random
from typing import Any

import orjson

from dsl.context import Bound, Context, ContextError, Lists
from dsl.localtime import iso
from dsl.model import DENIED, NOT_ELIGIBLE, Campaign, CompiledRuleset, CouponSpec, Prize, Reward
from engine.codes import new_code
from engine.context import parse_context
from engine.errors import RequestError
from engine.ids import new_claim_id
from engine.quotas import (
    limit_counters,
    pity_key,
    prize_counters,
    reward_counters,
    tally_counter,
)
from engine.registry import Loaded, Registry
from engine.schedule import schedule_open, window_reason
from engine.store import ClaimStep, Counter, Draw, NewCoupon, Outcome

KEY_GRACE = 86_400 + 3_600  # idempotency keys outlive the window by at least 24 hours


@dataclass(frozen=True, slots=True)
class ParsedClaim:
    loaded: Loaded
    reward: Reward | None  # None for a lottery
    ctx: Context
    bound: Bound
    key: str | None

    @property
    def fingerprint(self) -> str:
        """What a replay must match (10.2 step 1): the resolved reward, device id and IP."""
        reward = self.reward.id if self.reward is not None else ""
        return f"{reward}\x1f{self.ctx.device_id}\x1f{self.ctx.ip}"


def parse_claim(registry: Registry, request: Mapping[str, Any], now: int) -> ParsedClaim:
    """The request errors of 10.7, in the order a client can act on them."""
    campaign_id = request.get("campaign")
    if not isinstance(campaign_id, str) or not campaign_id:
        raise RequestError.invalid("campaign", "a campaign id is required")
    loaded = registry.campaign(campaign_id)
    if loaded is None:
        raise RequestError("unknown_campaign", f"no campaign '{campaign_id}' is loaded")
    reward = _resolve_reward(loaded.campaign, request.get("reward"))
    key = request.get("key")
    if key is not None and (not isinstance(key, str) or not key or len(key) > 200):
        raise RequestError.invalid("key", "an idempotency key is a string of 1 to 200 characters")
    ctx, bound = _context(loaded.ruleset, request, now)
    return ParsedClaim(loaded, reward, ctx, bound, key)


def _resolve_reward(campaign: Campaign, name: Any) -> Reward | None:
    if campaign.kind == "automatic":
        raise RequestError("not_claimable", f"'{campaign.id}' is an automatic discount")
    if name is not None and not isinstance(name, str):
        raise RequestError.invalid("reward", "must be a reward id")
    if campaign.kind == "lottery":
        if name is not None:
            raise RequestError("unknown_reward", f"'{campaign.id}' is a lottery: prizes are drawn")
        return None
    if name is None:
        if len(campaign.rewards) > 1:
            names = ", ".join(r.id for r in campaign.rewards)
            raise RequestError("reward_required", f"'{campaign.id}' has several rewards: {names}")
        return campaign.rewards[0]
    reward = campaign.reward(name)
    if reward is None:
        raise RequestError("unknown_reward", f"'{campaign.id}' has no reward '{name}'")
    return reward


def claim_context(request: Mapping[str, Any]) -> dict[str, Any]:
    """The context of a claim: its `context`, with the claim's user, device and IP."""
    raw = request.get("context") or {}
    if not isinstance(raw, dict):
        raise RequestError.invalid("context", "must be an object")
    raw = dict(raw)
    user = request.get("user")
    if isinstance(user, str):
        user = {"id": user}
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise RequestError.invalid("user.id", "a claim needs the user's id")
    raw["user"] = user
    device = request.get("device")
    if device is not None:
        if not isinstance(device, str):
            raise RequestError.invalid("device", "must be the device id")
        raw["device"] = {"id": device}
    if request.get("ip") is not None:
        raw["ip"] = request["ip"]
    return raw


def _context(
    ruleset: CompiledRuleset, request: Mapping[str, Any], now: int
) -> tuple[Context, Bound]:
    raw = claim_context(request)
    cart = raw.get("cart")
    if isinstance(cart, dict) and cart.get("currency", ruleset.currency) != ruleset.currency:
        raise RequestError.invalid(
            "cart.currency", f"the campaign's currency is {ruleset.currency}"
        )
    try:
        ctx = parse_context(
            raw, now=now, currency=ruleset.currency, minor_units=ruleset.minor_units
        )
        return ctx, ruleset.bind(ctx)
    except ContextError as exc:
        raise RequestError.invalid(exc.path, exc.message) from exc


def rule_refusal(parsed: ParsedClaim, lists: Lists, paused: bool, now: int) -> str | None:
    """Steps 2 to 5 of 10.2: window, schedule, pause, referral, eligibility, risk control.
    The compiled `when`/`deny when` run only when the cheaper checks pass."""
    loaded = parsed.loaded
    reason = timing_refusal(loaded, paused, now) or referral_check(loaded.campaign, parsed.ctx)
    if reason is not None:
        return reason
    return status_reason(loaded.campaign.check(parsed.ctx, parsed.bound, lists))


def timing_refusal(loaded: Loaded, paused: bool, now: int) -> str | None:
    """Window, schedule and pause, in that order (10.1 step 2, 10.2 step 2)."""
    campaign = loaded.campaign
    reason = window_reason(campaign, now)
    if reason is not None:
        return reason
    if campaign.schedule and not schedule_open(
        campaign.schedule, campaign.window, now, loaded.ruleset.tz
    ):
        return "outside_schedule"
    return "paused" if paused else None


def status_reason(status: int) -> str | None:
    if status == NOT_ELIGIBLE:
        return "not_eligible"
    if status == DENIED:
        return "denied"
    return None


def referral_check(campaign: Campaign, ctx: Context) -> str | None:
    return referral_refusal(campaign.referral, ctx) if campaign.referral is not None else None


def referral_refusal(event: str, ctx: Context) -> str | None:
    """LANGUAGE.md 7.5: the event must match and name this user as the inviter."""
    if ctx.referral_event != event or ctx.referral_inviter != ctx.user_id:
        return "not_eligible"
    if not ctx.referral_invitee:
        return "not_eligible"
    if ctx.referral_invitee == ctx.user_id:
        return "denied"
    return None


def build_step(
    registry: Registry, parsed: ParsedClaim, refusal: str | None, now: int, rng: Random | None
) -> ClaimStep:
    loaded, ctx = parsed.loaded, parsed.ctx
    campaign, ruleset = loaded.campaign, loaded.ruleset
    claim_id = new_claim_id(now)
    log = {
        "type": "claim", "claim_id": claim_id, "campaign": campaign.id, "ruleset": ruleset.id,
        "user": ctx.user_id, "device": ctx.device_id, "ip": ctx.ip, "key": parsed.key or "",
        "time": now,
    }  # fmt: skip
    key_expiry = campaign.window.end + KEY_GRACE

    def step(
        checks: tuple[Counter, ...], outcomes: tuple[Outcome, ...], draw: Draw | None
    ) -> ClaimStep:
        return ClaimStep(
            loaded.scope, ctx.user_id, parsed.key, parsed.fingerprint, refusal, checks, outcomes,
            draw, log, key_expiry,
        )  # fmt: skip

    if refusal is not None:
        return step((), (), None)
    tz = ruleset.tz
    checks = limit_counters(campaign, parsed.reward, ctx, now, tz)
    issue = _Issuer(registry, loaded, claim_id, now)
    if parsed.reward is not None:
        checks += reward_counters(campaign, parsed.reward, now, tz)
        outcomes: tuple[Outcome, ...] = (issue.reward(parsed.reward),)
        draw = None
    else:
        outcomes, draw = _lottery(issue, ctx.user_id, now, rng)
    return step(tuple(checks), outcomes, draw)


def _lottery(
    issue: _Issuer, user: str, now: int, rng: Random | None
) -> tuple[tuple[Outcome, ...], Draw]:
    campaign = issue.loaded.campaign
    lottery = campaign.lottery
    assert lottery is not None
    tz = issue.loaded.ruleset.tz
    outcomes = [issue.prize(p, *prize_counters(campaign, p, now, tz)) for p in lottery.prizes]
    if lottery.otherwise_text is not None:
        outcomes.append(issue.otherwise(lottery.otherwise_text, lottery.otherwise_weight))
    ids = [p.id for p in lottery.prizes]
    guarantee = ids.index(lottery.guarantee) if lottery.guarantee is not None else None
    u = rng.random() if rng is not None else secrets.randbits(53) / (1 << 53)
    draw = Draw(
        u, lottery.otherwise_text is not None, guarantee, lottery.guarantee_after,
        pity_key(user), campaign.window.end + KEY_GRACE,
    )  # fmt: skip
    return tuple(outcomes), draw


class _Issuer:
    """Builds the outcomes of one claim: coupons with fresh codes, and the result JSON."""

    def __init__(self, registry: Registry, loaded: Loaded, claim_id: str, now: int) -> None:
        self.registry = registry
        self.loaded = loaded
        self.claim_id = claim_id
        self.now = now

    def reward(self, reward: Reward) -> Outcome:
        coupons = tuple(self._coupon(spec) for spec in reward.coupons)
        result = self._result({"reward": reward.id}, coupons)
        face = reward.face_value or 0
        tally = (tally_counter(reward.id),)
        return Outcome(None, 0, tally, (), coupons, result, self._log(reward.id, coupons, face))

    def prize(self, prize: Prize, stocks: list[Counter], budgets: list[Counter]) -> Outcome:
        coupons = (self._coupon(prize.coupon),) if prize.coupon is not None else ()
        extra: dict[str, Any] = {"prize": prize.id}
        if prize.title is not None:
            extra["prize_title"] = prize.title
        if prize.points is not None:
            extra["points"] = prize.points
        result = self._result(extra, coupons)
        log = self._log(prize.id, coupons, prize.face_value)
        counters = (*stocks, tally_counter(prize.id))
        return Outcome(prize.id, prize.weight, counters, tuple(budgets), coupons, result, log)

    def otherwise(self, text: str, weight: int) -> Outcome:
        result = self._result({"prize": "otherwise", "prize_title": text}, ())
        tally = (tally_counter("otherwise"),)
        return Outcome("otherwise", weight, tally, (), (), result, self._log("otherwise", (), 0))

    def _coupon(self, spec: CouponSpec) -> NewCoupon:
        loaded = self.loaded
        terms = self.registry.terms_id(loaded.ruleset, loaded.campaign, spec)
        start, end = validity(spec, loaded.campaign, self.now)
        return NewCoupon(
            new_code(loaded.scope.tag), spec.id, terms, start, end, spec.face_value or 0
        )

    def _result(self, extra: dict[str, Any], coupons: tuple[NewCoupon, ...]) -> str:
        tz = self.loaded.ruleset.tz
        body: dict[str, Any] = {
            "status": "issued", "campaign": self.loaded.campaign.id, **extra,
            "claim_id": self.claim_id,
            "coupons": [
                {"reward": c.reward, "code": c.code, "valid_from": iso(c.valid_from, tz),
                 "valid_until": iso(c.valid_until, tz)}
                for c in coupons
            ],
            "replayed": False,
        }  # fmt: skip
        return orjson.dumps(body).decode()

    @staticmethod
    def _log(outcome: str, coupons: tuple[NewCoupon, ...], face: int) -> dict[str, Any]:
        return {"reward": outcome, "codes": [c.code for c in coupons], "face_value": face}


def validity(spec: CouponSpec, campaign: Campaign, now: int) -> tuple[int, int]:
    """Valid from and until of a coupon issued now (LANGUAGE.md 6.4)."""
    v = spec.validity
    if v.kind == "after":
        return now, now + v.seconds
    if v.kind == "until":
        return now, v.end
    if v.kind == "range":
        return v.start, v.end
    return now, campaign.window.end


def decode_result(text: str, *, replayed: bool) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(text)
    result["replayed"] = replayed
    return result
