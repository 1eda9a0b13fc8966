"""What a campaign gives, in plain words, for `promo explain`: the automatic discount,
each coupon and pack with its face value, validity and quotas, and a lottery's prizes
with their odds.

Each offer is a JSON-ready dict: `kind`, `text` (one line), `details` (more lines, for
packs and lotteries) and the values a tool may want (`face_value`, `quotas`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from dsl import model as M
from dsl.phrases import amount, budgets, count, join, limits, money, percent, stocks, validity

Offer = dict[str, Any]


def offers(c: M.Campaign, k: int, tz: ZoneInfo) -> list[Offer]:
    if c.discount is not None:
        return [{"kind": "discount", "text": "automatically: " + terms(c.discount, k)}]
    if c.lottery is not None:
        return [lottery(c.lottery, k, tz)]
    return [reward(r, k, tz) for r in c.rewards]


def terms(t: M.Terms, k: int) -> str:
    """`30 off 199`, `15% off, from 200, at most 50, on items where item.shop == "s1"`."""
    parts = [benefit(t.benefit, k, t.min_spend)]
    if t.min_spend is not None and not isinstance(t.benefit, M.ValueOff):
        parts.append(f"from {amount(t.min_spend, k)}")
    if t.cap is not None:
        parts.append(f"at most {amount(t.cap, k)}")
    if t.filter is not None:
        parts.append(f"on items where {t.filter.text}")
    return ", ".join(parts)


def benefit(b: M.Benefit, k: int, min_spend: int | None = None) -> str:
    match b:
        case M.ValueOff(amount=value):
            # "30 off 199" (满199减30) is how operators say a value off with a threshold.
            spend = "" if min_spend is None else f" {amount(min_spend, k)}"
            return f"{amount(value, k)} off{spend}"
        case M.PercentOff(percent=p):
            return f"{percent(p)} off"
        case M.SpendTiers(tiers=tiers):
            return ", ".join(f"{save(s, k)} off from {amount(t, k)}" for t, s in tiers)
        case M.QtyTiers(tiers=tiers):
            return ", ".join(f"{save(s, k)} off from {count(n)} items" for n, s in tiers)
        case M.Every(step=step, save=saved):
            return f"{amount(saved, k)} off every {amount(step, k)}"
        case M.BuyGet(buy=buy, get=get, percent=p):
            how = "free" if p == 100 else f"at {percent(p)} off"
            return f"buy {count(buy)} get {count(get)} {how} (the cheapest units)"
        case M.FreeShipping():
            return "free shipping"
        case M.Gift(sku=sku, qty=qty):
            return f'a gift: {count(qty)} × "{sku}"'
        case M.Points(points=points, per=per):
            each = "" if per is None else f" per {amount(per, k)} spent"
            return f"{count(points)} points{each}"
    raise TypeError(f"unknown benefit {type(b).__name__}")


def save(s: M.Save, k: int) -> str:
    return amount(s.amount, k) if s.amount is not None else percent(s.percent or Fraction(0))


def coupon(spec: M.CouponSpec, k: int, tz: ZoneInfo) -> str:
    """`coupon c30 "30 off 199": 30 off 199; face value 30.00; valid 7 days after claim`."""
    return f"coupon {_named(spec.id, spec.title)}: {_coupon_terms(spec, k, tz)}"


def _coupon_terms(spec: M.CouponSpec, k: int, tz: ZoneInfo) -> str:
    face = "no face value" if spec.face_value is None else f"face value {money(spec.face_value, k)}"
    return f"{terms(spec.terms, k)}; {face}; {validity(spec.validity, tz)}"


def reward(r: M.Reward, k: int, tz: ZoneInfo) -> Offer:
    quotas = stocks(r.stocks) + budgets(r.budgets, k) + limits(r.limits)
    face = None if r.face_value is None else money(r.face_value, k)
    if r.kind == "coupon":
        text = "; ".join([coupon(r.coupons[0], k, tz), *quotas])
        details: list[str] = []
    else:
        value = "" if face is None else f"; face value {face}"
        head = f"pack {_named(r.id, r.title)}: {len(r.coupons)} coupons in one claim{value}"
        text = "; ".join([head, *quotas])
        details = [coupon(spec, k, tz) for spec in r.coupons]
    plain_face = None if r.face_value is None else money(r.face_value, k).replace(",", "")
    return {
        "kind": r.kind,
        "id": r.id,
        "title": r.title,
        "text": text,
        "details": details,
        "face_value": plain_face,
        "quotas": quotas,
    }


def lottery(lot: M.Lottery, k: int, tz: ZoneInfo) -> Offer:
    total = sum(p.weight for p in lot.prizes) + lot.otherwise_weight
    details = [_prize(p, total, k, tz) for p in lot.prizes]
    if lot.otherwise_text is not None:
        odds = _odds(lot.otherwise_weight, total)
        details.append(f'otherwise "{lot.otherwise_text}": weight {lot.otherwise_weight}{odds}')
    if lot.guarantee is not None:
        details.append(f"{lot.guarantee} is guaranteed after {lot.guarantee_after} misses in a row")
    text = f"a lottery, one draw per claim: {join([p.id for p in lot.prizes])}"
    return {"kind": "lottery", "text": text, "details": details}


def _prize(p: M.Prize, total: int, k: int, tz: ZoneInfo) -> str:
    if p.coupon is not None:
        what = "coupon " + _coupon_terms(p.coupon, k, tz)
    elif p.points is not None:
        what = f"{count(p.points)} points"
    else:
        what = "physical prize"
    quotas = "".join("; " + s for s in stocks(p.stocks)) or "; no stock limit"
    return f"{_named(p.id, p.title)}: {what}; weight {p.weight}{_odds(p.weight, total)}{quotas}"


def _odds(weight: int, total: int) -> str:
    if total == 0:
        return ""
    return f" ({float(Fraction(100 * weight, total)):.3g}% of draws)"


def _named(ident: str, title: str | None) -> str:
    return ident if title is None else f'{ident} "{title}"'
