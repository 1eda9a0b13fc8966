"""The inline transformer that builds the syntax tree while Lark parses (LANGUAGE.md 3,
7, 8, 12): no parse tree is made, and every span comes from tokens (no
`propagate_positions`). Declarations, campaign items, quotas and rewards are here;
expressions in expr_builder.py, leaf values in tokens.py.

A file with more than MAX_CAMPAIGNS campaigns is one error, at the first one too many.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lark import Token

from dsl import ast
from dsl.expr_builder import ExprBuilder
from dsl.syntax_errors import fail
from dsl.tokens import digits_ok
from dsl.vocabulary import MAX_CAMPAIGNS

__all__ = ["TreeBuilder"]


class TreeBuilder(ExprBuilder):
    """Lark calls one method per grammar alias with the children of that rule (tokens
    and already built nodes; `None` for a missing `[optional]`), innermost first. Keyword
    tokens are kept (`!` rules in the grammar) because spans start at them."""

    def begin(self, file: str) -> None:
        super().begin(file)
        self.campaigns = 0

    # file structure
    def ruleset(self, c: list[Any]) -> ast.Ruleset:
        header, context, *decls = c
        last = decls[-1] if decls else context or header
        span = header.span.through(last.span)
        # The last reduction: the lexer has read every comment by now.
        return ast.Ruleset(span, header, context, tuple(decls), tuple(self.comments))

    def header(self, c: list[Any]) -> ast.Header:
        kw, rid, _, tz, _, cur = c
        return ast.Header(self.tok_to(kw, cur), self.str_(rid), self.str_(tz), self.name(cur))

    def context_block(self, c: list[Any]) -> ast.ContextBlock:
        return ast.ContextBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def attr_decl(self, c: list[Any]) -> ast.AttrDecl:
        root, name, type_ref, default = c
        span = self.tok_to(root, default or type_ref)
        return ast.AttrDecl(span, self.name(root), self.name(name), type_ref, default)

    def plain_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(self.span(c[0]), self.name(c[0]), False)

    def list_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(self.tok_to(c[0], c[-1]), self.name(c[-1]), True)

    def default_list(self, c: list[Any]) -> ast.DefaultList:
        return ast.DefaultList(self.tok_to(c[0], c[-1]), tuple(c[1:-1:2]))

    def negative_number(self, c: list[Any]) -> ast.NumberLit:
        minus, t = c
        digits_ok(t, self.file)
        return ast.NumberLit(self.tok_to(minus, t), -Decimal(t.value), "-" + t.value)

    def segment(self, c: list[Any]) -> ast.Segment:
        kw, name, _, expr = c
        return ast.Segment(self.tok_to(kw, expr), self.name(name), self.clause(expr))

    def campaign(self, c: list[Any]) -> ast.Campaign:
        kw, name, title, *items = c
        self.campaigns += 1
        if self.campaigns > MAX_CAMPAIGNS:
            message = f"more than {MAX_CAMPAIGNS:,} campaigns in one file"
            raise fail(message, self.span(name))
        span = self.tok_to(kw, items[-1])
        return ast.Campaign(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    # campaign items
    def tier_item(self, c: list[Any]) -> ast.TierItem:
        return ast.TierItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def goal_item(self, c: list[Any]) -> ast.GoalItem:
        return ast.GoalItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def window_item(self, c: list[Any]) -> ast.WindowItem:
        kw, date1, time1, _, date2, time2 = c
        start, end = self.datetime_of(date1, time1), self.datetime_of(date2, time2)
        return ast.WindowItem(self.tok_to(kw, end), start, end)

    def daily_item(self, c: list[Any]) -> ast.DailyItem:
        return ast.DailyItem(self.tok_to(c[0], c[-1]), tuple(c[1:]))

    def weekly_item(self, c: list[Any]) -> ast.WeeklyItem:
        days = tuple(self.name(t) for t in c[1:] if isinstance(t, Token) and t.type == "NAME")
        ranges = tuple(r for r in c if isinstance(r, ast.TimeRange))
        return ast.WeeklyItem(self.tok_to(c[0], c[-1]), days, ranges)

    def monthly_item(self, c: list[Any]) -> ast.MonthlyItem:
        days = tuple(self.int_(t) for t in c[1:] if isinstance(t, Token) and t.type == "INT")
        ranges = tuple(r for r in c if isinstance(r, ast.TimeRange))
        return ast.MonthlyItem(self.tok_to(c[0], c[-1]), days, ranges)

    def when_item(self, c: list[Any]) -> ast.WhenItem:
        return ast.WhenItem(self.tok_to(c[0], c[1]), self.clause(c[1]))

    def deny_item(self, c: list[Any]) -> ast.DenyItem:
        return ast.DenyItem(self.tok_to(c[0], c[2]), self.clause(c[2]))

    def priority_item(self, c: list[Any]) -> ast.PriorityItem:
        return ast.PriorityItem(self.tok_to(c[0], c[1]), self.int_(c[1]))

    def negative_priority(self, c: list[Any]) -> ast.PriorityItem:
        kw, minus, t = c
        digits_ok(t, self.file)
        value = ast.Int(self.tok_to(minus, t), -int(t.value))
        return ast.PriorityItem(self.tok_to(kw, t), value)

    def group_item(self, c: list[Any]) -> ast.GroupItem:
        return ast.GroupItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def stage_item(self, c: list[Any]) -> ast.StageItem:
        return ast.StageItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def referral_item(self, c: list[Any]) -> ast.ReferralItem:
        return ast.ReferralItem(self.tok_to(c[0], c[1]), self.str_(c[1]))

    def time_range(self, c: list[Any]) -> ast.TimeRange:
        start, end = c
        return ast.TimeRange(self.tok_to(start, end), self.time_of(start), self.time_of(end))

    # quotas
    def limit(self, c: list[Any]) -> ast.LimitItem:
        kw, _, scope, count, period = c
        span = self.tok_to(kw, period or count)
        return ast.LimitItem(span, self.name(scope), self.int_(count), period)

    def budget(self, c: list[Any]) -> ast.BudgetItem:
        kw, amount, period = c
        return ast.BudgetItem(self.tok_to(kw, period or amount), self.number_of(amount), period)

    def stock(self, c: list[Any]) -> ast.StockItem:
        kw, count, period = c
        return ast.StockItem(self.tok_to(kw, period or count), self.int_(count), period)

    def period_word(self, c: list[Any]) -> ast.Period:
        return ast.Period(self.tok_to(c[0], c[1]), self.name(c[1]), None)

    def period_duration(self, c: list[Any]) -> ast.Period:
        return ast.Period(self.tok_to(c[0], c[1]), None, self.duration_of(c[1]))

    # rewards
    def discount(self, c: list[Any]) -> ast.DiscountBlock:
        return ast.DiscountBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def value_off(self, c: list[Any]) -> ast.ValueOff:
        return ast.ValueOff(self.tok_to(c[0], c[2]), self.amount_of(c[1]))

    def free_shipping(self, c: list[Any]) -> ast.FreeShipping:
        return ast.FreeShipping(self.tok_to(c[0], c[1]))

    def tiers(self, c: list[Any]) -> ast.Tiers:
        return ast.Tiers(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def spend_tier(self, c: list[Any]) -> ast.Tier:
        kw, threshold, _, save = c
        span = self.tok_to(kw, save)
        return ast.Tier(span, "spend", self.number_of(threshold), self.amount_of(save))

    def qty_tier(self, c: list[Any]) -> ast.Tier:
        kw, threshold, _, save = c
        span = self.tok_to(kw, save)
        return ast.Tier(span, "qty", self.number_of(threshold), self.amount_of(save))

    def every(self, c: list[Any]) -> ast.Every:
        kw, step, _, save = c
        return ast.Every(self.tok_to(kw, save), self.number_of(step), self.number_of(save))

    def buy_get_free(self, c: list[Any]) -> ast.BuyGet:
        kw, buy, _, get, free = c
        return ast.BuyGet(self.tok_to(kw, free), self.int_(buy), self.int_(get), None)

    def buy_get_at(self, c: list[Any]) -> ast.BuyGet:
        kw, buy, _, get, _, percent, off = c
        pct = self.amount_of(percent)
        assert isinstance(pct, ast.Percent)  # the grammar allows only PERCENT here
        return ast.BuyGet(self.tok_to(kw, off), self.int_(buy), self.int_(get), pct)

    def gift(self, c: list[Any]) -> ast.Gift:
        kw, sku, _, qty = c
        span = self.tok_to(kw, qty or sku)
        return ast.Gift(span, self.str_(sku), None if qty is None else self.int_(qty))

    def points(self, c: list[Any]) -> ast.Points:
        kw, points, _, per = c
        span = self.tok_to(kw, per or points)
        return ast.Points(span, self.int_(points), None if per is None else self.number_of(per))

    def cap(self, c: list[Any]) -> ast.Cap:
        return ast.Cap(self.tok_to(c[0], c[1]), self.number_of(c[1]))

    def min_spend(self, c: list[Any]) -> ast.MinSpend:
        return ast.MinSpend(self.tok_to(c[0], c[2]), self.number_of(c[2]))

    def on_items(self, c: list[Any]) -> ast.OnItems:
        return ast.OnItems(self.tok_to(c[0], c[3]), self.clause(c[3]))

    def coupon(self, c: list[Any]) -> ast.CouponBlock:
        kw, name, title, *items = c
        span = self.tok_to(kw, items[-1])
        return ast.CouponBlock(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    def valid_for(self, c: list[Any]) -> ast.ValidFor:
        return ast.ValidFor(self.tok_to(c[0], c[3]), self.duration_of(c[1]))

    def valid_until(self, c: list[Any]) -> ast.ValidUntil:
        kw, _, date, time = c
        until = self.datetime_of(date, time)
        return ast.ValidUntil(self.tok_to(kw, until), until)

    def valid_range(self, c: list[Any]) -> ast.ValidRange:
        kw, date1, time1, _, date2, time2 = c
        start, end = self.datetime_of(date1, time1), self.datetime_of(date2, time2)
        return ast.ValidRange(self.tok_to(kw, end), start, end)

    def pack(self, c: list[Any]) -> ast.PackBlock:
        kw, name, title, *items = c
        span = self.tok_to(kw, items[-1])
        return ast.PackBlock(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    def lottery(self, c: list[Any]) -> ast.LotteryBlock:
        return ast.LotteryBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def prize(self, c: list[Any]) -> ast.Prize:
        kw, name, title, kind, _, weight, stock = c
        span = self.tok_to(kw, stock or weight)
        return ast.Prize(span, self.name(name), self.opt_str(title), kind, self.int_(weight), stock)

    def prize_coupon(self, c: list[Any]) -> ast.PrizeCoupon:
        return ast.PrizeCoupon(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def prize_points(self, c: list[Any]) -> ast.PrizePoints:
        return ast.PrizePoints(self.tok_to(c[0], c[1]), self.int_(c[1]))

    def otherwise(self, c: list[Any]) -> ast.Otherwise:
        kw, text, _, weight = c
        span = self.tok_to(kw, weight or text)
        return ast.Otherwise(span, self.str_(text), None if weight is None else self.int_(weight))

    def guarantee(self, c: list[Any]) -> ast.Guarantee:
        kw, prize, _, misses, last = c
        return ast.Guarantee(self.tok_to(kw, last), self.name(prize), self.int_(misses))
