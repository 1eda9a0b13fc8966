"""Benefits, coupons, packs, lottery prizes and quotas in the compiled model (LANGUAGE.md
7, 8): money in integer minor units, percentages as `Fraction`s, `on items where`
filters shared across the ruleset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from dsl import ast as A
from dsl import model as M
from dsl.build_time import TimeBuilder, period

__all__ = ["RewardBuilder"]

T = TypeVar("T")

_BENEFITS = (A.ValueOff, A.Tiers, A.Every, A.BuyGet, A.FreeShipping, A.Gift, A.Points)


class RewardBuilder:
    """The rewards and quotas of one ruleset: its minor units, its timezone (for coupon
    validity) and the compiler's shared item filters (`item_filter`)."""

    def __init__(
        self, k: int, time: TimeBuilder, item_filter: Callable[[A.Expr], M.ItemFilter]
    ) -> None:
        self.k, self.time, self.item_filter = k, time, item_filter

    def money(self, value: Decimal) -> int:
        return int(value * 10**self.k)

    # -- quotas (LANGUAGE.md 8) --

    def limits(self, items: Sequence[object]) -> tuple[M.Limit, ...]:
        return tuple(
            M.Limit(_scope(i.scope.text), i.count.value, period(i.period))
            for i in _of(items, A.LimitItem)
        )

    def stocks(self, items: Sequence[object]) -> tuple[M.Stock, ...]:
        return tuple(M.Stock(i.count.value, period(i.period)) for i in _of(items, A.StockItem))

    def budgets(self, items: Sequence[object]) -> tuple[M.Budget, ...]:
        return tuple(
            M.Budget(self.money(i.amount.value), period(i.period)) for i in _of(items, A.BudgetItem)
        )

    # -- benefits and rewards (LANGUAGE.md 7) --

    def terms(self, items: Sequence[object]) -> M.Terms:
        benefit = next(i for i in items if isinstance(i, _BENEFITS))
        cap = _one(items, A.Cap)
        min_spend = _one(items, A.MinSpend)
        on = _one(items, A.OnItems)
        return M.Terms(
            self.benefit(benefit),
            self.money(cap.amount.value) if cap else None,
            self.money(min_spend.amount.value) if min_spend else None,
            self.item_filter(on.expr) if on else None,
        )

    def benefit(self, b: A.Benefit) -> M.Benefit:
        match b:
            case A.ValueOff(amount=A.Percent(value=percent)):
                return M.PercentOff(Fraction(percent))
            case A.ValueOff(amount=A.Number(value=amount)):
                return M.ValueOff(self.money(amount))
            case A.Tiers(tiers=tiers) if tiers[0].kind == "spend":
                return M.SpendTiers(
                    tuple((self.money(t.threshold.value), self.save(t)) for t in tiers)
                )
            case A.Tiers(tiers=tiers):
                return M.QtyTiers(tuple((int(t.threshold.value), self.save(t)) for t in tiers))
            case A.Every(step=step, save=save):
                return M.Every(self.money(step.value), self.money(save.value))
            case A.BuyGet(buy=buy, get=get, percent=percent):
                off = Fraction(100) if percent is None else Fraction(percent.value)
                return M.BuyGet(buy.value, get.value, off)
            case A.Gift(sku=sku, qty=qty):
                return M.Gift(sku.value, qty.value if qty else 1)
            case A.Points(points=points, per=per):
                return M.Points(points.value, self.money(per.value) if per else None)
        return M.FreeShipping()

    def save(self, tier: A.Tier) -> M.Save:
        if isinstance(tier.save, A.Percent):
            return M.Save(percent=Fraction(tier.save.value))
        return M.Save(amount=self.money(tier.save.value))

    def coupon(self, cid: str, title: str | None, items: Sequence[object]) -> M.CouponSpec:
        terms = self.terms(items)
        face = terms.benefit.amount if isinstance(terms.benefit, M.ValueOff) else terms.cap
        return M.CouponSpec(cid, title, terms, self.time.validity(items), face)

    def reward(self, block: A.CouponBlock | A.PackBlock) -> M.Reward:
        rid, title = block.name.text, _text(block.title)
        if isinstance(block, A.CouponBlock):
            specs: tuple[M.CouponSpec, ...] = (self.coupon(rid, title, block.items),)
        else:
            specs = tuple(
                self.coupon(c.name.text, _text(c.title), c.items)
                for c in _of(block.items, A.CouponBlock)
            )
        faces = [s.face_value for s in specs]
        face = None if None in faces else sum(f for f in faces if f is not None)
        kind: Any = "coupon" if isinstance(block, A.CouponBlock) else "pack"
        quotas = block.items
        return M.Reward(
            rid, title, kind, specs, self.stocks(quotas), self.budgets(quotas),
            self.limits(quotas), face,
        )  # fmt: skip

    def lottery(self, block: A.LotteryBlock) -> M.Lottery:
        other = _one(block.items, A.Otherwise)
        pity = _one(block.items, A.Guarantee)
        return M.Lottery(
            tuple(self.prize(p) for p in _of(block.items, A.Prize)),
            other.text.value if other else None,
            other.weight.value if other and other.weight else 0,
            pity.prize.text if pity else None,
            pity.misses.value if pity else 0,
        )

    def prize(self, p: A.Prize) -> M.Prize:
        pid, title = p.name.text, _text(p.title)
        stocks = self.stocks([p.stock] if p.stock else [])
        if isinstance(p.kind, A.PrizeCoupon):
            spec = self.coupon(pid, title, p.kind.items)
            return M.Prize(pid, title, "coupon", spec, None, p.weight.value, stocks)
        if isinstance(p.kind, A.PrizePoints):
            points = p.kind.points.value
            return M.Prize(pid, title, "points", None, points, p.weight.value, stocks)
        return M.Prize(pid, title, "physical", None, None, p.weight.value, stocks)


def _of(items: Iterable[object], cls: type[T]) -> list[T]:
    return [i for i in items if type(i) is cls]


def _one(items: Iterable[object], cls: type[T]) -> T | None:
    for i in items:
        if type(i) is cls:
            return i
    return None


def _text(s: A.Str | None) -> str | None:
    return s.value if s else None


def _scope(word: str) -> Any:
    return word
