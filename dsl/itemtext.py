"""One-line texts of rule items for `promo fmt`, and the table alignment of the
one-line coupons of a pack.

Literals keep the text they were written with (`19.90`, `7d`, `23:59`), strings are
re-escaped canonically, and counts print as integers, so a text never changes a value.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsl import ast
from dsl.printer import datetime_text, expr_text, string_text

INLINE_ITEMS = 3  # the most items a block may have and still go on one line
SEP = "  "  # between the items of a one-line block


def inline_items(items: Sequence[ast.Node]) -> list[str] | None:
    """The texts of a block's items when they may share one line, else None."""
    texts = [item_text(i) for i in items]
    if len(texts) > INLINE_ITEMS:
        return None
    found = [t for t in texts if t is not None]
    return found if len(found) == len(texts) else None


def one_line(head: str, items: Sequence[str], tail: str = "") -> str:
    return f"{head} {{ {SEP.join(items)} }}{tail}"


def aligned_rows(rows: Sequence[tuple[str, str, list[str]]]) -> list[str]:
    """One-line coupons `(head, title, items)` as a table: heads, titles and items start
    in the same columns on every row, as the spec's examples write packs."""
    head_width = max(len(head) for head, _, _ in rows)
    title_width = max(len(title) for _, title, _ in rows)
    columns = max(len(items) for _, _, items in rows)
    widths = [max((len(i[k]) for _, _, i in rows if k < len(i)), default=0) for k in range(columns)]
    out: list[str] = []
    for head, title, items in rows:
        cells = [text.ljust(widths[k]) for k, text in enumerate(items[:-1])] + items[-1:]
        lead = head.ljust(head_width) + (" " + title.ljust(title_width) if title_width else "")
        out.append(one_line(lead, cells))
    return out


def title_text(title: ast.Str | None) -> str:
    return "" if title is None else " " + string_text(title.value)


def _period(period: ast.Period | None) -> str:
    if period is None:
        return ""
    if period.word is not None:
        return f" per {period.word.text}"
    assert period.duration is not None
    return f" per {period.duration.text}"


def _ranges(ranges: Sequence[ast.TimeRange]) -> str:
    return ", ".join(f"{r.start.text} .. {r.end.text}" for r in ranges)


def _default(value: ast.Expr | ast.DefaultList | None) -> str:
    if value is None:
        return ""
    if isinstance(value, ast.DefaultList):
        return " = [" + ", ".join(expr_text(v) for v in value.items) + "]"
    return " = " + expr_text(value)


def item_text(node: ast.Node) -> str | None:
    """The one-line text of an item without a block or a condition; None for the others."""
    match node:
        case ast.TierItem(word=word):
            return f"tier {word.text}"
        case ast.GoalItem(word=word):
            return f"goal {word.text}"
        case ast.WindowItem(start=begin, end=finish):
            return f"window {datetime_text(begin)} .. {datetime_text(finish)}"
        case ast.DailyItem(ranges=ranges):
            return f"daily {_ranges(ranges)}"
        case ast.WeeklyItem(days=days, ranges=ranges):
            when = ", ".join(d.text for d in days)
            return f"weekly {when}" + (f" {_ranges(ranges)}" if ranges else "")
        case ast.MonthlyItem(days=days, ranges=ranges):
            when = ", ".join(str(d.value) for d in days)
            return f"monthly {when}" + (f" {_ranges(ranges)}" if ranges else "")
        case ast.PriorityItem(value=value):
            return f"priority {value.value}"
        case ast.GroupItem(name=name):
            return f"group {name.text}"
        case ast.StageItem(word=word):
            return f"stage {word.text}"
        case ast.ReferralItem(event=event):
            return f"referral {string_text(event.value)}"
        case ast.LimitItem(scope=scope, count=count, period=period):
            return f"limit per {scope.text} {count.value}{_period(period)}"
        case ast.BudgetItem(amount=amount, period=period):
            return f"budget {amount.text}{_period(period)}"
        case ast.StockItem(count=count, period=period):
            return f"stock {count.value}{_period(period)}"
    return _benefit_text(node)


def _benefit_text(node: ast.Node) -> str | None:
    match node:
        case ast.ValueOff(amount=amount):
            return f"value {amount.text} off"
        case ast.Every(step=step, save=save):
            return f"every {step.text} save {save.text}"
        case ast.BuyGet(buy=buy, get=get, percent=percent):
            how = "free" if percent is None else f"at {percent.text} off"
            return f"buy {buy.value} get {get.value} {how}"
        case ast.FreeShipping():
            return "free shipping"
        case ast.Gift(sku=sku, qty=qty):
            return f"gift {string_text(sku.value)}" + ("" if qty is None else f" qty {qty.value}")
        case ast.Points(points=points, per=per):
            return f"points {points.value}" + ("" if per is None else f" per {per.text}")
        case ast.Cap(amount=amount):
            return f"cap {amount.text}"
        case ast.MinSpend(amount=amount):
            return f"min spend {amount.text}"
        case ast.Tier(kind=kind, threshold=threshold, save=save):
            return f"{kind} {threshold.text} save {save.text}"
    return _other_text(node)


def _other_text(node: ast.Node) -> str | None:
    match node:
        case ast.ValidFor(duration=duration):
            return f"valid {duration.text} after claim"
        case ast.ValidUntil(until=until):
            return f"valid until {datetime_text(until)}"
        case ast.ValidRange(start=begin, end=finish):
            return f"valid {datetime_text(begin)} .. {datetime_text(finish)}"
        case ast.Otherwise(text=text, weight=weight):
            return f"otherwise {string_text(text.value)}" + (
                "" if weight is None else f" weight {weight.value}"
            )
        case ast.Guarantee(prize=prize, misses=misses):
            return f"guarantee {prize.text} after {misses.value} misses"
        case ast.AttrDecl(root=root, name=name, type=kind, default=default):
            type_name = f"list of {kind.name.text}" if kind.is_list else kind.name.text
            return f"{root.text}.{name.text}: {type_name}{_default(default)}"
    return None
