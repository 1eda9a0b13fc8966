"""The syntax tree of a rule file: frozen, slotted nodes, each with the span it came from.

The parser builds it (parser.py), the checker reads it (checker.py), the compiler turns a
checked tree into a compiled ruleset (compiler.py), and the formatter prints it back
(fmt.py). Nodes mirror the grammar of LANGUAGE.md section 12; words the parser accepts as
plain names (tier letters, goals, weekdays, scopes, periods, stages, types, currencies)
stay `Name`s here and are checked by the checker, so one misspelt word is one error.

Literal values are decoded by the parser where that cannot fail (numbers, strings,
durations); dates and times keep their text and carry `None` as their value when they are
not real dates or times, so that the checker reports `invalid date` with every other error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeAlias

from dsl.errors import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# --- words and literals ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A NAME token: an identifier, or a word with a fixed meaning in its position."""

    text: str


@dataclass(frozen=True, slots=True)
class Str(Node):
    """A STRING token, escapes decoded."""

    value: str


@dataclass(frozen=True, slots=True)
class Int(Node):
    """An INT token (counts, weights, quantities, days of month). `value` may be negative
    only for `priority` and defaults written with a leading `-`."""

    value: int


@dataclass(frozen=True, slots=True)
class Number(Node):
    """An INT or DECIMAL token used as a number or an amount; exact, never a float.
    `text` is the token as written (`19.90`), so decimals can be counted."""

    value: Decimal
    text: str

    @property
    def decimals(self) -> int:
        return len(self.text.split(".", 1)[1]) if "." in self.text else 0


@dataclass(frozen=True, slots=True)
class Percent(Node):
    """A PERCENT token: `15%` has value 15, `12.5%` has value 12.5."""

    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Duration(Node):
    """A DURATION token: `7d` has seconds 604800."""

    seconds: int
    text: str


@dataclass(frozen=True, slots=True)
class DateLit(Node):
    """A DATE token; `value` is None when the text is not a real `YYYY-MM-DD` date."""

    text: str
    value: dt.date | None


@dataclass(frozen=True, slots=True)
class TimeLit(Node):
    """A TIME token; `seconds` since midnight, None when not 00:00:00 to 23:59:59.
    `has_seconds` tells whether seconds were written (`23:59` vs `23:59:59`)."""

    text: str
    seconds: int | None
    has_seconds: bool


@dataclass(frozen=True, slots=True)
class DateTime(Node):
    """A date, optionally followed by a time: a local date-time in the ruleset timezone."""

    date: DateLit
    time: TimeLit | None


@dataclass(frozen=True, slots=True)
class Comment(Node):
    """`# ...` up to the end of the line (text includes the `#`). Kept for `promo fmt`."""

    text: str


# --- expressions (LANGUAGE.md 5) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberLit(Node):
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class StringLit(Node):
    value: str


@dataclass(frozen=True, slots=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class DurationLit(Node):
    seconds: int
    text: str


@dataclass(frozen=True, slots=True)
class DateTimeLit(Node):
    """A date or date-time in an expression: an instant in the ruleset timezone."""

    value: DateTime


@dataclass(frozen=True, slots=True)
class Path(Node):
    """`user.level`, `item.brand`, `channel`, or a bare name (a segment): its parts."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class RuntimeList(Node):
    """`list "NAME"`: a set of strings kept in the store (LANGUAGE.md 10.6)."""

    name: Str


@dataclass(frozen=True, slots=True)
class Paren(Node):
    """`( EXPR )`. Kept so that `promo fmt` prints the parentheses the operator wrote; an
    expression's reported start skips it (LANGUAGE.md 11.2)."""

    inner: Expr


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: Expr


BoolOp = Literal["and", "or"]
ArithOp = Literal["+", "-", "*"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


@dataclass(frozen=True, slots=True)
class Logic(Node):
    """`left and right` / `left or right`."""

    op: BoolOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Arith(Node):
    op: ArithOp
    left: Expr
    right: Expr
    op_span: Span


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: CompareOp
    left: Expr
    right: Expr
    op_span: Span


@dataclass(frozen=True, slots=True)
class AnyItems(Node):
    """`any(items where C)`."""

    cond: Expr


@dataclass(frozen=True, slots=True)
class AllItems(Node):
    """`all(items where C)`."""

    cond: Expr


@dataclass(frozen=True, slots=True)
class CountItems(Node):
    """`count(items [where C])`: units (sum of qty) of the matching lines."""

    cond: Expr | None


@dataclass(frozen=True, slots=True)
class SumItems(Node):
    """`sum(E for items [where C])`."""

    value: Expr
    cond: Expr | None


Expr: TypeAlias = (
    NumberLit
    | StringLit
    | BoolLit
    | DurationLit
    | DateTimeLit
    | Path
    | ListLit
    | RuntimeList
    | Paren
    | Not
    | Neg
    | Logic
    | Arith
    | Compare
    | AnyItems
    | AllItems
    | CountItems
    | SumItems
)


def expr_start(expr: Expr) -> Span:
    """Where an expression starts for error positions: its first token, not counting
    opening parentheses; a binary expression starts where its left operand starts."""
    while True:
        if isinstance(expr, Paren):
            expr = expr.inner
        elif isinstance(expr, Logic | Arith | Compare):
            expr = expr.left
        else:
            return expr.span


# --- header and context block (LANGUAGE.md 3.1, 3.2) ------------------------------------


@dataclass(frozen=True, slots=True)
class Header(Node):
    ruleset_id: Str
    timezone: Str
    currency: Name


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    """`string` or `list of string`: `name` is the element type for lists."""

    name: Name
    is_list: bool


@dataclass(frozen=True, slots=True)
class DefaultList(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class AttrDecl(Node):
    """`user.city: string = ""`. A negative default (`-5`) is a NumberLit with a negative
    value whose span starts at the `-`."""

    root: Name
    name: Name
    type: TypeRef
    default: Expr | DefaultList | None


@dataclass(frozen=True, slots=True)
class ContextBlock(Node):
    attrs: tuple[AttrDecl, ...]


@dataclass(frozen=True, slots=True)
class Segment(Node):
    name: Name
    expr: Expr


# --- campaign items (LANGUAGE.md 3.4, 6, 8) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period(Node):
    """`per day` (word) or `per 10m` (duration); exactly one of the two is set."""

    word: Name | None
    duration: Duration | None


@dataclass(frozen=True, slots=True)
class TimeRange(Node):
    start: TimeLit
    end: TimeLit


@dataclass(frozen=True, slots=True)
class TierItem(Node):
    word: Name


@dataclass(frozen=True, slots=True)
class GoalItem(Node):
    word: Name


@dataclass(frozen=True, slots=True)
class WindowItem(Node):
    start: DateTime
    end: DateTime


@dataclass(frozen=True, slots=True)
class DailyItem(Node):
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True, slots=True)
class WeeklyItem(Node):
    days: tuple[Name, ...]
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True, slots=True)
class MonthlyItem(Node):
    days: tuple[Int, ...]
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True, slots=True)
class WhenItem(Node):
    expr: Expr


@dataclass(frozen=True, slots=True)
class DenyItem(Node):
    """`deny when EXPR`; the span starts at `deny`."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class PriorityItem(Node):
    value: Int


@dataclass(frozen=True, slots=True)
class GroupItem(Node):
    name: Name


@dataclass(frozen=True, slots=True)
class StageItem(Node):
    word: Name


@dataclass(frozen=True, slots=True)
class ReferralItem(Node):
    event: Str


@dataclass(frozen=True, slots=True)
class LimitItem(Node):
    scope: Name
    count: Int
    period: Period | None


@dataclass(frozen=True, slots=True)
class BudgetItem(Node):
    amount: Number
    period: Period | None


@dataclass(frozen=True, slots=True)
class StockItem(Node):
    count: Int
    period: Period | None


# --- benefits, modifiers, validity (LANGUAGE.md 7) -----------------------------------------


@dataclass(frozen=True, slots=True)
class ValueOff(Node):
    """`value 30 off` (Number) or `value 15% off` (Percent)."""

    amount: Number | Percent


@dataclass(frozen=True, slots=True)
class Tier(Node):
    """`spend 200 save 20` or `qty 2 save 5%`; the span starts at `spend` / `qty`."""

    kind: Literal["spend", "qty"]
    threshold: Number
    save: Number | Percent


@dataclass(frozen=True, slots=True)
class Tiers(Node):
    tiers: tuple[Tier, ...]


@dataclass(frozen=True, slots=True)
class Every(Node):
    step: Number
    save: Number


@dataclass(frozen=True, slots=True)
class BuyGet(Node):
    """`buy N get M free` (percent None) or `buy N get M at P% off`."""

    buy: Int
    get: Int
    percent: Percent | None


@dataclass(frozen=True, slots=True)
class FreeShipping(Node):
    pass


@dataclass(frozen=True, slots=True)
class Gift(Node):
    sku: Str
    qty: Int | None


@dataclass(frozen=True, slots=True)
class Points(Node):
    """`points N` or `points N per X`."""

    points: Int
    per: Number | None


Benefit: TypeAlias = ValueOff | Tiers | Every | BuyGet | FreeShipping | Gift | Points


@dataclass(frozen=True, slots=True)
class Cap(Node):
    amount: Number


@dataclass(frozen=True, slots=True)
class MinSpend(Node):
    """`min spend X`; the span starts at `min`."""

    amount: Number


@dataclass(frozen=True, slots=True)
class OnItems(Node):
    """`on items where EXPR`; the span starts at `on`."""

    expr: Expr


Modifier: TypeAlias = Cap | MinSpend | OnItems


@dataclass(frozen=True, slots=True)
class ValidFor(Node):
    """`valid 7d after claim`."""

    duration: Duration


@dataclass(frozen=True, slots=True)
class ValidUntil(Node):
    until: DateTime


@dataclass(frozen=True, slots=True)
class ValidRange(Node):
    start: DateTime
    end: DateTime


Validity: TypeAlias = ValidFor | ValidUntil | ValidRange

DiscountItem: TypeAlias = Benefit | Modifier
CouponItem: TypeAlias = (
    ValueOff | FreeShipping | Modifier | Validity | StockItem | BudgetItem | LimitItem
)


@dataclass(frozen=True, slots=True)
class DiscountBlock(Node):
    items: tuple[DiscountItem, ...]


@dataclass(frozen=True, slots=True)
class CouponBlock(Node):
    name: Name
    title: Str | None
    items: tuple[CouponItem, ...]


@dataclass(frozen=True, slots=True)
class PackBlock(Node):
    name: Name
    title: Str | None
    items: tuple[CouponBlock | StockItem | BudgetItem | LimitItem, ...]


@dataclass(frozen=True, slots=True)
class PrizeCoupon(Node):
    """`coupon { ... }` as a prize kind; the span starts at `coupon`."""

    items: tuple[CouponItem, ...]


@dataclass(frozen=True, slots=True)
class PrizePoints(Node):
    points: Int


@dataclass(frozen=True, slots=True)
class Prize(Node):
    name: Name
    title: Str | None
    kind: PrizeCoupon | PrizePoints | None
    weight: Int
    stock: StockItem | None


@dataclass(frozen=True, slots=True)
class Otherwise(Node):
    text: Str
    weight: Int | None


@dataclass(frozen=True, slots=True)
class Guarantee(Node):
    prize: Name
    misses: Int


@dataclass(frozen=True, slots=True)
class LotteryBlock(Node):
    items: tuple[Prize | Otherwise | Guarantee, ...]


CampaignItem: TypeAlias = (
    TierItem
    | GoalItem
    | WindowItem
    | DailyItem
    | WeeklyItem
    | MonthlyItem
    | WhenItem
    | DenyItem
    | PriorityItem
    | GroupItem
    | StageItem
    | ReferralItem
    | LimitItem
    | BudgetItem
    | DiscountBlock
    | CouponBlock
    | PackBlock
    | LotteryBlock
)


@dataclass(frozen=True, slots=True)
class Campaign(Node):
    name: Name
    title: Str | None
    items: tuple[CampaignItem, ...]


@dataclass(frozen=True, slots=True)
class Ruleset(Node):
    """A whole rule file. `decls` keeps segments and campaigns in file order; `comments`
    holds every comment, in file order, for the formatter."""

    header: Header
    context: ContextBlock | None
    decls: tuple[Segment | Campaign, ...]
    comments: tuple[Comment, ...] = ()

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(d for d in self.decls if isinstance(d, Segment))

    @property
    def campaigns(self) -> tuple[Campaign, ...]:
        return tuple(d for d in self.decls if isinstance(d, Campaign))
