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
from dsl.model import DENIED, NOT_ELIGIBLE, Campaign, CompiledRuleset, CouponSpec, Reward
from engine.codes import new_code
from engine.context import parse_context
from engine.errors import RequestError
from engine.ids import new_claim_id
from engine.quotas import check_slots, claim_values, pity_key, prize_counters, tally_counter
from engine.registry import Loaded, Registry
from engine.schedule import schedule_open, window_reason
from engine.store import ClaimStep, Counter, Draw
from engine.store.shapes import ClaimShape, CouponShape, OutcomeShape

KEY_GRACE = 86_400 + 3_600  # idempotency keys outlive the window by at least 24 hours


@dataclass(slots=True, unsafe_hash=True)  # not frozen, made per claim: see store.Counter
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


class Plans:
    """The claim plan of every (loaded campaign, reward) claimed so far, made on first use.

    Keyed by the identity of the `Loaded` (a new version is a new object, so its plans
    are made again) and kept with it, so that an id is never reused while its entry lives.
    """

    __slots__ = ("_plans", "_registry")
    _MAX = 4096  # versions come and go: a full table is cleared and refilled on demand

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._plans: dict[tuple[int, str], ClaimPlan] = {}

    def get(self, loaded: Loaded, reward: Reward | None) -> ClaimPlan:
        key = (id(loaded), reward.id if reward is not None else "")
        plan = self._plans.get(key)
        if plan is None or plan.loaded is not loaded:
            if len(self._plans) >= self._MAX:
                self._plans.clear()
            plan = self._plans[key] = ClaimPlan(self._registry, loaded, reward)
        return plan


class ClaimPlan:
    """What a claim of one reward (or of a lottery) of one loaded campaign needs, prepared
    once: its coupons' terms, its outcomes' result JSON up to the claim id; and per engine
    second (`second`) its claim shape, so that a claim only makes its own values."""

    __slots__ = ("_second", "coupons", "key_expiry", "loaded", "outcomes", "reward")

    def __init__(self, registry: Registry, loaded: Loaded, reward: Reward | None) -> None:
        campaign = loaded.campaign
        self.loaded, self.reward = loaded, reward
        self.key_expiry = campaign.window.end + KEY_GRACE
        self.coupons = [_CouponPlan(registry, loaded, spec) for spec in _specs(campaign, reward)]
        self.outcomes = _outcome_plans(campaign, reward)
        self._second: _Second | None = None

    def second(self, now: int) -> _Second:
        """The plan at engine second `now`, made when the second changes: every claim of
        that second shares it (period ids and validity change at most once a second)."""
        second = self._second
        if second is None or second.shape.now != now:
            second = self._second = _Second(self, now)
        return second


def _specs(campaign: Campaign, reward: Reward | None) -> list[CouponSpec]:
    """Every coupon a claim may issue, in outcome order."""
    if reward is not None:
        return list(reward.coupons)
    assert campaign.lottery is not None
    return [p.coupon for p in campaign.lottery.prizes if p.coupon is not None]


class _CouponPlan:
    """One coupon spec: its terms id, and its JSON in a result up to its code."""

    __slots__ = ("head", "spec", "terms")

    def __init__(self, registry: Registry, loaded: Loaded, spec: CouponSpec) -> None:
        self.spec = spec
        self.terms = registry.terms_id(loaded.ruleset, loaded.campaign, spec)
        self.head = '{"reward":' + orjson.dumps(spec.id).decode() + ',"code":"'


class _OutcomePlan:
    """One way a claim can end: a reward, a prize or `otherwise`. `head` is its result
    JSON up to the claim id; `coupons` how many of the plan's coupons it issues."""

    __slots__ = ("coupons", "face", "head", "name", "prize", "tally", "weight")

    def __init__(
        self, campaign: Campaign, name: str, extra: dict[str, Any], face: int, coupons: int,
        prize: str | None = None, weight: int = 0,
    ) -> None:  # fmt: skip
        body = orjson.dumps({"status": "issued", "campaign": campaign.id, **extra}).decode()
        self.head = body[:-1] + ',"claim_id":"'
        self.name, self.face, self.coupons = name, face, coupons
        self.prize, self.weight = prize, weight
        self.tally = tally_counter(name)


def _outcome_plans(campaign: Campaign, reward: Reward | None) -> list[_OutcomePlan]:
    if reward is not None:
        face = reward.face_value or 0
        return [_OutcomePlan(campaign, reward.id, {"reward": reward.id}, face, len(reward.coupons))]
    lottery = campaign.lottery
    assert lottery is not None
    plans = []
    for p in lottery.prizes:
        extra: dict[str, Any] = {"prize": p.id}
        if p.title is not None:
            extra["prize_title"] = p.title
        if p.points is not None:
            extra["points"] = p.points
        coupons = 1 if p.coupon is not None else 0
        plans.append(_OutcomePlan(campaign, p.id, extra, p.face_value, coupons, p.id, p.weight))
    if lottery.otherwise_text is not None:
        extra = {"prize": "otherwise", "prize_title": lottery.otherwise_text}
        weight = lottery.otherwise_weight
        plans.append(_OutcomePlan(campaign, "otherwise", extra, 0, 0, "otherwise", weight))
    return plans


class _Second:
    """A claim plan at one engine second: the claim shape (counters with this second's
    period ids, coupons with this second's validity) and, per outcome, its result JSON
    around the claim id and codes."""

    __slots__ = ("results", "shape")

    def __init__(self, plan: ClaimPlan, now: int) -> None:
        loaded = plan.loaded
        campaign, tz = loaded.campaign, loaded.ruleset.tz
        coupons, tails = [], []
        for c in plan.coupons:
            start, end = validity(c.spec, campaign, now)
            coupons.append(CouponShape(c.spec.id, c.terms, start, end, c.spec.face_value or 0))
            tails.append(f'","valid_from":"{iso(start, tz)}","valid_until":"{iso(end, tz)}"}}')
        lottery = campaign.lottery if plan.reward is None else None
        prizes = [prize_counters(campaign, p, now, tz) for p in lottery.prizes] if lottery else []
        outcomes: list[OutcomeShape] = []
        results: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        at = 0
        for i, o in enumerate(plan.outcomes):
            counters: tuple[Counter, ...] = (o.tally,)
            budget: tuple[Counter, ...] = ()
            # A prize: its stocks, and the campaign's budgets (7.4). The preview of claimable
            # offers (engine/preview.py) reads the stocks as all counters but the tally.
            if i < len(prizes):
                counters, budget = (*prizes[i][0], o.tally), tuple(prizes[i][1])
            mine = range(at, at + o.coupons)
            shapes = tuple(coupons[j] for j in mine)
            outcomes.append(
                OutcomeShape(o.prize, o.weight, counters, budget, shapes, at, o.name, o.face)
            )
            results.append((o.head, tuple((plan.coupons[j].head, tails[j]) for j in mine)))
            at += o.coupons
        checks = check_slots(campaign, plan.reward, now, tz)
        self.shape = ClaimShape(loaded.scope, now, checks, tuple(outcomes), plan.key_expiry)
        self.results = tuple(results)

    def result_texts(self, claim_id: str, codes: tuple[str, ...]) -> tuple[str, ...]:
        """Each outcome's issued result: its JSON with the claim id and its coupons' codes."""
        if len(codes) == 1 and len(self.results) == 1:  # a coupon: the usual claim
            head, ((coupon_head, tail),) = self.results[0]
            coupon = coupon_head + codes[0] + tail
            return (f'{head}{claim_id}","coupons":[{coupon}],"replayed":false}}',)
        texts = []
        at = 0
        for head, coupons in self.results:
            parts = []
            for coupon_head, tail in coupons:
                parts.append(coupon_head + codes[at] + tail)
                at += 1
            texts.append(f'{head}{claim_id}","coupons":[{",".join(parts)}],"replayed":false}}')
        return tuple(texts)


def build_step(
    plans: Plans, parsed: ParsedClaim, refusal: str | None, now: int, rng: Random | None
) -> ClaimStep:
    """The store step of a parsed claim: with a refusal, only what a replay needs; else a
    step of the plan's shape at `now` with the claim's values, fresh codes and results."""
    loaded, ctx = parsed.loaded, parsed.ctx
    plan = plans.get(loaded, parsed.reward)
    # One draw from `secrets` for the claim id and every code: 80 bits each.
    count = len(plan.coupons)
    bits = secrets.randbits(80 * (1 + count))
    claim_id = new_claim_id(now, bits & _BITS_80)
    log = {
        "type": "claim", "claim_id": claim_id, "campaign": loaded.campaign.id,
        "ruleset": loaded.ruleset.id, "user": ctx.user_id, "device": ctx.device_id,
        "ip": ctx.ip, "key": parsed.key or "", "time": now,
    }  # fmt: skip
    if refusal is not None:
        return ClaimStep(
            loaded.scope, ctx.user_id, parsed.key, parsed.fingerprint, refusal, (), (), None,
            log, plan.key_expiry,
        )  # fmt: skip
    second = plan.second(now)
    tag = loaded.scope.tag
    if count == 1:
        codes: tuple[str, ...] = (new_code(tag, bits >> 80),)
    else:
        codes = tuple([new_code(tag, (bits >> (80 * i)) & _BITS_80) for i in range(1, count + 1)])
    draw = _draw(plan, ctx.user_id, rng) if parsed.reward is None else None
    values = claim_values(ctx)
    return ClaimStep.planned(
        second.shape, values, parsed.key, parsed.fingerprint, codes,
        second.result_texts(claim_id, codes), draw, log,
    )  # fmt: skip


_BITS_80 = (1 << 80) - 1


def _draw(plan: ClaimPlan, user: str, rng: Random | None) -> Draw:
    campaign = plan.loaded.campaign
    lottery = campaign.lottery
    assert lottery is not None
    ids = [p.id for p in lottery.prizes]
    guarantee = ids.index(lottery.guarantee) if lottery.guarantee is not None else None
    u = rng.random() if rng is not None else secrets.randbits(53) / (1 << 53)
    return Draw(
        u, lottery.otherwise_text is not None, guarantee, lottery.guarantee_after,
        pity_key(user), campaign.window.end + KEY_GRACE,
    )  # fmt: skip


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


_NOT_REPLAYED = '"replayed":false}'


def result_json(text: str, *, replayed: bool) -> bytes:
    """A stored result as the answer's JSON: as stored, or with `replayed` true. Results
    end with `"replayed":false}` (ClaimPlan builds them so); anything else is decoded.

    >>> result_json('{"status":"issued","replayed":false}', replayed=True)
    b'{"status":"issued","replayed":true}'
    """
    if not replayed:
        return text.encode()
    if text.endswith(_NOT_REPLAYED):
        return (text[: -len(_NOT_REPLAYED)] + '"replayed":true}').encode()
    return orjson.dumps(decode_result(text, replayed=True))


_REJECTED: dict[str, bytes] = {}


def rejected_json(reason: str) -> bytes:
    """The answer of a refused claim; one bytes object per reason, made once."""
    found = _REJECTED.get(reason)
    if found is None:
        body = {"status": "rejected", "reason": reason or None, "replayed": False}
        found = _REJECTED[reason] = orjson.dumps(body)
    return found
