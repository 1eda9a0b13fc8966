"""The parser: grammar of LANGUAGE.md 12, contextual keywords (2.3), tokens (2.4), syntax
errors (11.2), spans, comments and resource bounds."""

from __future__ import annotations

import gc
import re
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.make_big_ruleset import make_big_ruleset
from dsl import ast
from dsl.ast import expr_start
from dsl.errors import Diagnostic, RuleError, Span
from dsl.parser import _ALWAYS, _lock, _parse, _parser, parse_ruleset
from dsl.vocabulary import KEYWORDS, MAX_CAMPAIGNS, MAX_FILE_BYTES, MAX_NESTING

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
EXAMPLES = sorted((SPEC / "examples").glob("*.promo"))
HEADER = 'ruleset "t"\ntimezone "UTC"\ncurrency CNY\n'  # three lines: bodies start on line 4


# --- helpers ---------------------------------------------------------------------------------


def parse(text: str) -> ast.Ruleset:
    return parse_ruleset(text, "t.promo")


def error_of(text: str) -> Diagnostic:
    """The one diagnostic of a text that does not parse."""
    with pytest.raises(RuleError) as info:
        parse(text)
    assert len(info.value.diagnostics) == 1
    return info.value.diagnostics[0]


def at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.span.line, diagnostic.span.column


def campaign(body: str) -> ast.Campaign:
    """The campaign `c` with `body` as its items (its first item is on line 5)."""
    tree = parse(HEADER + "campaign c {\n" + body + "\n}\n")
    (only,) = tree.campaigns
    return only


def item(body: str) -> Any:
    (first,) = campaign(body).items
    return first


def expr(text: str) -> ast.Expr:
    """The expression of `segment s = TEXT` (on line 4, starting at column 13)."""
    (segment,) = parse(HEADER + "segment s = " + text + "\n").segments
    return segment.expr


def column_of(line: str, needle: str, nth: int = 1) -> int:
    """1-based column of the nth occurrence of `needle` in `line`."""
    index = -1
    for _ in range(nth):
        index = line.index(needle, index + 1)
    return index + 1


# --- the examples and the stock runtime ------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_parses(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = parse_ruleset(text, path.name)
    assert tree.header.currency.text == "CNY"
    assert tree.campaigns
    assert len(tree.comments) == sum(1 for line in text.splitlines() if "#" in line)
    assert tree.span.file == path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_fast_runtime_builds_the_same_tree_as_larks_own(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _parse(text, "x", fast=True) == _parse(text, "x", fast=False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        HEADER + "campaign c {",
        HEADER + "campaign c { when channel = 1 }",
        HEADER + "campaign c { windw 2026-11-11 .. 2026-11-11 }",
        HEADER + "segment s = a < b < c",
        HEADER + "segment s = @",
        HEADER + 'segment s = "abc',
        HEADER + "campaign c { limit per user 10min }",
        HEADER + "segment s = user.list and list",
    ],
)
def test_fast_runtime_reports_the_same_errors_as_larks_own(text: str) -> None:
    with pytest.raises(RuleError) as fast:
        _parse(text, "x", fast=True)
    with pytest.raises(RuleError) as stock:
        _parse(text, "x", fast=False)
    assert fast.value.diagnostics == stock.value.diagnostics


def test_the_benchmark_file_parses_alike_in_both_runtimes() -> None:
    text = make_big_ruleset(campaigns=60)
    tree = _parse(text, "big.promo", fast=True)
    names = [c.name.text for c in tree.campaigns]
    assert len(names) == len(set(names)) == 60
    assert tree == _parse(text, "big.promo", fast=False)


def test_the_fast_runtime_is_the_one_in_use() -> None:
    with _lock:
        lark, _ = _parser()
    assert type(lark.parser.parser.parser).__name__ == "_FastLoop"
    assert type(lark.parser.lexer.lexer).__name__ == "_FastContextualLexer"


def test_keywords_of_the_grammar_are_those_of_the_spec() -> None:
    with _lock:
        lark, _ = _parser()
    names = {t.name for t in lark.terminals}
    words = {t.pattern.value for t in lark.terminals if t.pattern.type == "str"}
    keywords = {w for w in words if re.fullmatch(r"[a-z]+", w)}
    assert keywords == KEYWORDS
    # Every terminal that is not a keyword (nor ignored) is scanned in every state.
    others = {t.name for t in lark.terminals if t.pattern.value not in keywords}
    assert others - {"WS", "COMMENT"} == set(_ALWAYS)
    assert set(_ALWAYS) <= names


# --- section 12, construct by construct ------------------------------------------------------


def test_header_and_context_block() -> None:
    tree = parse(
        HEADER
        + "context {\n"
        + '    user.city: string = ""\n'
        + "    user.orders: int = -5\n"
        + "    user.vip_until: datetime = 2026-01-01 10:00\n"
        + '    item.tags2: list of string = ["a", "b"]\n'
        + "    cart.shifts: list of int = [-1, 2]\n"
        + "    user.flag: bool = true\n"
        + "    user.rate: decimal = -0.5\n"
        + "    user.wait: duration = 10m\n"
        + "    item.brand: string\n"
        + "}\n"
    )
    assert tree.header.ruleset_id.value == "t"
    assert tree.header.timezone.value == "UTC"
    assert tree.context is not None
    city, orders, until, tags, shifts, flag, rate, wait, brand = tree.context.attrs
    assert (city.root.text, city.name.text, city.type.name.text, city.type.is_list) == (
        "user",
        "city",
        "string",
        False,
    )
    assert isinstance(city.default, ast.StringLit) and city.default.value == ""
    assert isinstance(orders.default, ast.NumberLit)
    assert orders.default.value == Decimal(-5)
    assert orders.default.span.column == column_of("    user.orders: int = -5", "-")
    assert isinstance(until.default, ast.DateTimeLit)
    assert until.default.value.time is not None
    assert tags.type.is_list and tags.type.name.text == "string"
    assert isinstance(tags.default, ast.DefaultList)
    assert [i.value for i in tags.default.items if isinstance(i, ast.StringLit)] == ["a", "b"]
    assert isinstance(shifts.default, ast.DefaultList)
    assert [i.value for i in shifts.default.items if isinstance(i, ast.NumberLit)] == [-1, 2]
    assert isinstance(flag.default, ast.BoolLit) and flag.default.value is True
    assert isinstance(rate.default, ast.NumberLit) and rate.default.text == "-0.5"
    assert isinstance(wait.default, ast.DurationLit) and wait.default.seconds == 600
    assert brand.default is None
    assert brand.span == Span(13, 5, 13, 23)


def test_segments_and_campaigns_keep_file_order() -> None:
    tree = parse(
        HEADER + 'segment a = true\ncampaign c1 {}\nsegment b = a\ncampaign c2 "Title \\"x\\"" {}\n'
    )
    assert [type(d).__name__ for d in tree.decls] == ["Segment", "Campaign", "Segment", "Campaign"]
    c1, c2 = tree.campaigns
    assert c1.title is None and c1.items == ()
    assert c2.title is not None and c2.title.value == 'Title "x"'


def test_campaign_items() -> None:
    c = campaign(
        "tier S\ngoal referral\nwindow 2026-11-11 .. 2026-11-12 23:59:59\n"
        "daily 10:00 .. 10:30, 22:00 .. 02:00\nweekly sat, sun 10:00 .. 22:00\nweekly wed\n"
        "monthly 8, 18, 28\nmonthly 1 00:00 .. 12:00\nwhen user.is_new\ndeny when x\n"
        'priority -5\ngroup g\nstage item\nreferral "first_order"\n'
        "limit per user 3 per day\nlimit per ip 10 per 1m\nlimit per device 1\n"
        "budget 30000.50 per month\nbudget 7"
    )
    kinds = [type(i).__name__ for i in c.items]
    assert kinds == [
        "TierItem", "GoalItem", "WindowItem", "DailyItem", "WeeklyItem", "WeeklyItem",
        "MonthlyItem", "MonthlyItem", "WhenItem", "DenyItem", "PriorityItem", "GroupItem",
        "StageItem", "ReferralItem", "LimitItem", "LimitItem", "LimitItem", "BudgetItem",
        "BudgetItem",
    ]  # fmt: skip
    tier, goal, window, daily, weekly, weekly_all_day, monthly, monthly_ranged = c.items[:8]
    assert tier.word.text == "S" and goal.word.text == "referral"
    assert window.start.time is None and window.end.time.seconds == 86399
    assert [(r.start.text, r.end.text) for r in daily.ranges] == [
        ("10:00", "10:30"),
        ("22:00", "02:00"),
    ]
    assert [d.text for d in weekly.days] == ["sat", "sun"] and len(weekly.ranges) == 1
    assert weekly_all_day.ranges == ()
    assert [d.value for d in monthly.days] == [8, 18, 28] and monthly.ranges == ()
    assert len(monthly_ranged.ranges) == 1
    priority, group, stage, referral = c.items[10:14]
    assert priority.value.value == -5
    assert (group.name.text, stage.word.text, referral.event.value) == ("g", "item", "first_order")
    per_day, per_minute, ever, budget, plain_budget = c.items[14:]
    assert per_day.scope.text == "user" and per_day.count.value == 3
    assert per_day.period.word.text == "day" and per_day.period.duration is None
    assert per_minute.period.duration.seconds == 60 and per_minute.period.word is None
    assert ever.period is None
    assert budget.amount.value == Decimal("30000.50") and budget.amount.decimals == 2
    assert budget.period.word.text == "month" and plain_budget.period is None


def test_discount_benefits_and_modifiers() -> None:
    c = campaign(
        "discount { value 30 off }\ndiscount { value 12.5% off cap 50 min spend 199 }\n"
        "discount { tiers { spend 200 save 20 spend 400 save 10% } }\n"
        "discount { tiers { qty 2 save 5 qty 3 save 7.5 } }\n"
        "discount { every 300 save 40 }\ndiscount { buy 2 get 1 free }\n"
        "discount { buy 1 get 1 at 50% off }\ndiscount { free shipping }\n"
        'discount { gift "TOTE" qty 2 }\ndiscount { gift "PEN" }\n'
        "discount { points 2 per 1.5 }\ndiscount { points 100 }\n"
        'discount { value 10 off on items where item.category == "shoes" }'
    )
    blocks = [i.items for i in c.items]
    (value,) = blocks[0]
    assert isinstance(value, ast.ValueOff) and isinstance(value.amount, ast.Number)
    percent, cap, min_spend = blocks[1]
    assert isinstance(percent.amount, ast.Percent) and percent.amount.value == Decimal("12.5")
    assert cap.amount.value == 50 and min_spend.amount.value == 199
    ((spend200, spend400),) = (b.tiers for b in blocks[2])
    assert (spend200.kind, spend200.threshold.value, spend200.save.value) == ("spend", 200, 20)
    assert isinstance(spend400.save, ast.Percent)
    ((qty2, qty3),) = (b.tiers for b in blocks[3])
    assert qty2.kind == "qty" and isinstance(qty2.threshold, ast.Number)
    assert qty3.save.value == Decimal("7.5")
    (every,) = blocks[4]
    assert (every.step.value, every.save.value) == (300, 40)
    (free,), (half,) = blocks[5], blocks[6]
    assert (free.buy.value, free.get.value, free.percent) == (2, 1, None)
    assert half.percent.value == 50
    assert isinstance(blocks[7][0], ast.FreeShipping)
    (gift,), (pen,) = blocks[8], blocks[9]
    assert gift.sku.value == "TOTE" and gift.qty.value == 2 and pen.qty is None
    (per,), (flat,) = blocks[10], blocks[11]
    assert per.points.value == 2 and per.per.value == Decimal("1.5") and flat.per is None
    _, on_items = blocks[12]
    assert isinstance(on_items, ast.OnItems) and isinstance(on_items.expr, ast.Compare)


def test_coupons_packs_and_validity() -> None:
    c = campaign(
        'coupon c30 "30 off" { value 30 off min spend 199 valid 7d after claim stock 1000 '
        "per day budget 30000 limit per user 1 }\n"
        "coupon s { free shipping cap 15 valid until 2026-11-30 }\n"
        "coupon r { value 5 off valid 2026-11-11 .. 2026-11-13 23:00 }\n"
        'pack welcome "Pack" { coupon w10 { value 10 off } stock 5 budget 10 limit per ip 2 }'
    )
    c30, ship, ranged, pack = c.items
    assert c30.name.text == "c30" and c30.title.value == "30 off"
    assert [type(i).__name__ for i in c30.items] == [
        "ValueOff", "MinSpend", "ValidFor", "StockItem", "BudgetItem", "LimitItem",
    ]  # fmt: skip
    assert c30.items[2].duration.seconds == 7 * 86400
    assert c30.items[3].period.word.text == "day"
    assert isinstance(ship.items[2], ast.ValidUntil) and ship.items[2].until.time is None
    valid = ranged.items[1]
    assert isinstance(valid, ast.ValidRange) and valid.end.time.text == "23:00"
    assert pack.title.value == "Pack"
    assert [type(i).__name__ for i in pack.items] == [
        "CouponBlock", "StockItem", "BudgetItem", "LimitItem",
    ]  # fmt: skip


def test_lottery() -> None:
    (lottery,) = campaign(
        'lottery {\n prize phone "Phone 17" weight 1 stock 10 per day\n'
        " prize c50 coupon { value 50 off valid 30d after claim } weight 50 stock 5000\n"
        ' prize pts "100 points" points 100 weight 200\n prize bare weight 0\n'
        ' otherwise "Thanks" weight 90\n otherwise "x"\n guarantee c50 after 10 misses\n}'
    ).items
    phone, c50, pts, bare, thanks, plain, guarantee = lottery.items
    assert phone.title.value == "Phone 17" and phone.kind is None
    assert phone.stock.count.value == 10 and phone.stock.period.word.text == "day"
    assert isinstance(c50.kind, ast.PrizeCoupon) and len(c50.kind.items) == 2
    assert c50.title is None and c50.weight.value == 50
    assert isinstance(pts.kind, ast.PrizePoints) and pts.kind.points.value == 100
    assert bare.stock is None and bare.weight.value == 0
    assert thanks.weight.value == 90 and plain.weight is None
    assert (guarantee.prize.text, guarantee.misses.value) == ("c50", 10)


# --- expressions (LANGUAGE.md 5) --------------------------------------------------------------


def shape(e: ast.Expr) -> Any:
    """A compact form of an expression tree, to compare structure."""
    if isinstance(e, ast.Logic | ast.Arith | ast.Compare):
        return (e.op, shape(e.left), shape(e.right))
    if isinstance(e, ast.Not):
        return ("not", shape(e.operand))
    if isinstance(e, ast.Neg):
        return ("neg", shape(e.operand))
    if isinstance(e, ast.Paren):
        return ("()", shape(e.inner))
    if isinstance(e, ast.Path):
        return e.text
    if isinstance(e, ast.NumberLit):
        return e.text
    return type(e).__name__


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", ("or", "a", ("and", "b", "c"))),
        ("a and b or c", ("or", ("and", "a", "b"), "c")),
        ("a or b or c", ("or", ("or", "a", "b"), "c")),
        ("not a and b", ("and", ("not", "a"), "b")),
        ("not a == b", ("not", ("==", "a", "b"))),
        ("not not a", ("not", ("not", "a"))),
        ("a == b + c * d", ("==", "a", ("+", "b", ("*", "c", "d")))),
        ("a - b - c", ("-", ("-", "a", "b"), "c")),
        ("a * b * c", ("*", ("*", "a", "b"), "c")),
        ("- a * b", ("*", ("neg", "a"), "b")),
        ("- - a", ("neg", ("neg", "a"))),
        ("a - -1", ("-", "a", ("neg", "1"))),
        ("(a or b) and c", ("and", ("()", ("or", "a", "b")), "c")),
        ("x not in y", ("not in", "x", "y")),
        ("x in y", ("in", "x", "y")),
        ("a != b", ("!=", "a", "b")),
        ("a <= b", ("<=", "a", "b")),
        ("a >= b", (">=", "a", "b")),
        ("a < b", ("<", "a", "b")),
        ("a > b", (">", "a", "b")),
        ("user.level-1", ("-", "user.level", "1")),
        ("2026 - 11 - 11", ("-", ("-", "2026", "11"), "11")),
    ],
)
def test_precedence_and_associativity(text: str, expected: Any) -> None:
    assert shape(expr(text)) == expected


def test_primaries() -> None:
    lists = expr("[1, 2.50, x]")
    assert isinstance(lists, ast.ListLit)
    assert [shape(i) for i in lists.items] == ["1", "2.50", "x"]
    assert lists.span == Span(4, 13, 4, 25)
    any_ = expr("any(items where item.qty > 1)")
    assert isinstance(any_, ast.AnyItems) and shape(any_.cond) == (">", "item.qty", "1")
    all_ = expr("all(items where true)")
    assert isinstance(all_, ast.AllItems) and isinstance(all_.cond, ast.BoolLit)
    count = expr("count(items where false)")
    assert isinstance(count, ast.CountItems) and isinstance(count.cond, ast.BoolLit)
    total = expr('sum(item.qty * 2 for items where item.shop == "s")')
    assert isinstance(total, ast.SumItems) and shape(total.value) == ("*", "item.qty", "2")
    assert total.cond is not None and total.span == Span(4, 13, 4, 63)
    runtime = expr('list "blocked"')
    assert isinstance(runtime, ast.RuntimeList) and runtime.name.value == "blocked"
    moment = expr("2026-11-11 10:00:05")
    assert isinstance(moment, ast.DateTimeLit) and moment.value.time is not None
    assert moment.value.time.seconds == 36005 and moment.span == Span(4, 13, 4, 32)
    duration = expr("7d")
    assert isinstance(duration, ast.DurationLit) and duration.seconds == 7 * 86400
    text = expr(r'"满\t\n\\\""')
    assert isinstance(text, ast.StringLit) and text.value == '满\t\n\\"'
    assert isinstance(expr("false"), ast.BoolLit)


def test_count_and_sum_without_where() -> None:
    counted = expr("count(items) > 1")
    assert isinstance(counted, ast.Compare) and isinstance(counted.left, ast.CountItems)
    assert counted.left.cond is None
    summed = expr("sum(item.price for items) > 1")
    assert isinstance(summed, ast.Compare) and isinstance(summed.left, ast.SumItems)
    assert summed.left.cond is None


def test_comparison_does_not_chain() -> None:
    d = error_of(HEADER + "segment s = a < b < c\n")
    assert at(d) == (4, 19) and d.message.startswith("syntax error: unexpected '<'")


# --- contextual keywords (LANGUAGE.md 2.3) ---------------------------------------------------

OPERAND_KEYWORDS = {"any", "all", "count", "sum", "list", "not", "true", "false"}


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_a_keyword_is_a_name_where_the_grammar_takes_no_keyword(word: str) -> None:
    """Every position that takes a NAME but not this keyword reads it as a NAME; the
    checker, not the parser, reports reserved names."""
    w = word
    # A type takes both NAME and `list` (`list of string`): there `list` is the keyword.
    t = "string" if w == "list" else w
    tree = parse(
        HEADER + f"context {{ user.{w}: {t} {w}.x: list of {w} }}\n"
        f"segment {w} = user.{w} or item.{w}.{w}\n"
        f"campaign {w} {{ tier {w} goal {w} group {w} stage {w} weekly {w}, {w}\n"
        f"  limit per {w} 1 per {w}\n"
        f"  coupon {w} {{ stock 1 per {w} }} pack {w} {{ coupon {w} {{}} }} }}\n"
        f"campaign l {{ lottery {{ prize {w} weight 1 guarantee {w} after 1 misses }} }}\n"
    )
    assert tree.context is not None
    first, second = tree.context.attrs
    assert (first.name.text, first.type.name.text, second.root.text) == (w, t, w)
    assert second.type.name.text == w
    (segment,) = tree.segments
    assert segment.name.text == w
    assert shape(segment.expr) == ("or", f"user.{w}", f"item.{w}.{w}")
    c, lottery = tree.campaigns
    assert c.name.text == w
    tier, goal, group, stage, weekly, limit, coupon, pack = c.items
    assert {tier.word.text, goal.word.text, group.name.text, stage.word.text} == {w}
    assert [d.text for d in weekly.days] == [w, w]
    assert limit.scope.text == w and limit.period.word.text == w
    assert coupon.name.text == w and pack.name.text == w
    prize, guarantee = lottery.items[0].items
    assert prize.name.text == w and guarantee.prize.text == w


@pytest.mark.parametrize("word", sorted(KEYWORDS - OPERAND_KEYWORDS))
def test_a_keyword_starts_a_path_where_an_operand_starts(word: str) -> None:
    assert shape(expr(f"{word}.x == 1 and {word}")) == ("and", ("==", f"{word}.x", "1"), word)


@pytest.mark.parametrize("word", sorted(OPERAND_KEYWORDS))
def test_an_operand_keyword_wins_over_a_name(word: str) -> None:
    d = error_of(HEADER + f"segment s = {word}.x\n")
    assert d.message.startswith("syntax error: unexpected")


def test_spec_examples_of_contextual_keywords() -> None:
    c = campaign(
        'goal referral\ndeny when referral.invitee == ""\nwhen item.qty > 1 and cart.shipping > 0'
    )
    goal, deny, when = c.items
    assert goal.word.text == "referral"
    assert shape(deny.expr) == ("==", "referral.invitee", "StringLit")
    assert shape(when.expr) == ("and", (">", "item.qty", "1"), (">", "cart.shipping", "0"))
    daily = parse(HEADER + "campaign daily { }").campaigns[0]
    assert daily.name.text == "daily"
    assert expr("true").__class__ is ast.BoolLit


def test_a_keyword_is_a_whole_word() -> None:
    """A state that takes `min` but no NAME still reads `minimum` as one word."""
    d = error_of(HEADER + "campaign c { discount { value 1 off minimum spend 5 } }")
    assert d.message.startswith("syntax error: unexpected 'minimum'")
    d = error_of(HEADER + "campaign c { discount { freeshipping } }")
    assert d.message.startswith("syntax error: unexpected 'freeshipping'")


# --- tokens (LANGUAGE.md 2.4) ------------------------------------------------------------------


def test_dates_and_times_are_decoded_or_left_to_the_checker() -> None:
    c = campaign("window 2026-1-1 .. 2026-02-30 24:00\ndaily 9:30 .. 23:59:59")
    window, daily = c.items
    assert window.start.date.text == "2026-1-1" and window.start.date.value is None
    assert window.end.date.value is None and window.end.time.seconds is None
    (slot,) = daily.ranges
    assert slot.start.seconds == 9 * 3600 + 1800 and not slot.start.has_seconds
    assert slot.end.seconds == 86399 and slot.end.has_seconds


def test_numbers_and_literals() -> None:
    assert shape(expr("2026-11-11")) == "DateTimeLit"
    assert isinstance(expr("10m"), ast.DurationLit)
    e = expr("30s + 24h")
    assert isinstance(e, ast.Arith)
    assert (e.left.seconds, e.right.seconds) == (30, 86400)  # type: ignore[union-attr]
    assert expr("19.90") == ast.NumberLit(Span(4, 13, 4, 18), Decimal("19.90"), "19.90")


@pytest.mark.parametrize("token", ["10min", "7days", "5x", "1.5h", "5_000", "12.5abc"])
def test_a_number_glued_to_letters_is_one_invalid_token(token: str) -> None:
    d = error_of(HEADER + f"campaign c {{ limit per user {token} }}")
    assert d.message == f"invalid token '{token}'"
    assert at(d) == (4, column_of("campaign c { limit per user X", "X"))


@pytest.mark.parametrize(
    ("body", "token"),
    [
        ("limit per user 2026-11-11", "2026-11-11"),
        ("limit per user 10:30", "10:30"),
        ("limit per user 15%", "15%"),
        ("limit per user 7d", "7d"),
        ("limit per user 1.5", "1.5"),
    ],
)
def test_lexing_is_greedy_in_every_state(body: str, token: str) -> None:
    d = error_of(HEADER + "campaign c { " + body + " }")
    assert d.message.startswith(f"syntax error: unexpected '{token}'")
    assert at(d) == (4, column_of("campaign c { " + body, token))


def test_double_equals_is_one_token_where_only_equals_fits() -> None:
    d = error_of(HEADER + "segment s == true")
    assert d.message.startswith("syntax error: unexpected '=='") and at(d) == (4, 11)


# --- syntax errors (LANGUAGE.md 11.2) -------------------------------------------------------


def test_spec_case_e7_single_equals() -> None:
    cases = yaml.safe_load((SPEC / "cases" / "compile_errors.yaml").read_text())
    (case,) = [c for c in cases if c["rules"].startswith('ruleset "e7"')]
    d = error_of(case["rules"])
    assert at(d) == (case["expect_error"]["line"], case["expect_error"]["column"]) == (7, 18)
    assert "syntax error: unexpected '='" in d.message
    assert d.message.endswith("; did you mean '=='?")
    assert d.span == Span(7, 18, 7, 19, "t.promo")


def test_unexpected_token_says_what_was_expected() -> None:
    d = error_of(HEADER + 'campaign c "t" "u" { }')
    assert d.message == "syntax error: unexpected '\"u\"'; expected '{'"
    assert d.span == Span(4, 16, 4, 19, "t.promo")
    d = error_of(HEADER + "campaign c { tier }")
    assert d.message == "syntax error: unexpected '}'; expected a name"
    d = error_of(HEADER + "campaign c { foo }")
    assert d.message.startswith("syntax error: unexpected 'foo'; expected a campaign item")


def test_a_misspelt_keyword_is_suggested() -> None:
    d = error_of(HEADER + "campaign c { windw 2026-11-11 .. 2026-11-11 }")
    assert d.message == "syntax error: unexpected 'windw'; did you mean 'window'?"
    assert at(d) == (4, 14)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", (1, 1)),
        ("   \n\n", (1, 1)),
        ("# only a comment\n", (1, 1)),
        (HEADER + "campaign c {", (4, 13)),
        (HEADER + "campaign c {   # open\n\n  # more\n", (4, 13)),
        ('ruleset "x"\ntimezone', (2, 9)),
        (HEADER + "segment s = ", (4, 12)),
    ],
)
def test_unexpected_end_of_file_points_just_after_the_last_token(
    text: str, where: tuple[int, int]
) -> None:
    d = error_of(text)
    assert d.message.startswith("syntax error: unexpected end of file")
    assert at(d) == where


def test_end_of_file_says_what_was_expected() -> None:
    assert error_of('ruleset "x" timezone').message == (
        "syntax error: unexpected end of file; expected a string"
    )
    assert error_of("").message == "syntax error: unexpected end of file; expected 'ruleset'"


@pytest.mark.parametrize(("char", "shown"), [("@", "@"), (";", ";"), ("\r", "\\r"), ("€", "€")])
def test_a_character_that_starts_no_token(char: str, shown: str) -> None:
    d = error_of(HEADER + f"segment s = a {char} b")
    assert d.message == f"invalid token '{shown}'"
    assert d.span == Span(4, 15, 4, 16, "t.promo")


def test_an_unterminated_string() -> None:
    d = error_of(HEADER + 'campaign c "abc {\n}\n')
    assert d.message == "invalid token '\"abc {'"
    assert at(d) == (4, 12)
    d = error_of(HEADER + 'campaign c "abc\\" {\r\n}\r\n')
    assert d.message == "invalid token '\"abc\\\" {'"


def test_a_bad_escape_is_reported_at_its_backslash() -> None:
    d = error_of(HEADER + 'campaign c "a\\qb" {}')
    assert d.message == "invalid escape '\\q' in string"
    assert d.span == Span(4, 14, 4, 16, "t.promo")


def test_rule_error_renders_file_line_column() -> None:
    with pytest.raises(RuleError) as info:
        parse_ruleset(HEADER + "segment s = @", "rules/x.promo")
    assert str(info.value) == "rules/x.promo:4:13: error: invalid token '@'"


# --- spans ------------------------------------------------------------------------------------


def test_spans_run_from_the_first_token_to_the_last() -> None:
    text = HEADER + (
        'campaign c "T" {\n'
        "    window 2026-11-11 00:00 .. 2026-11-11 23:59:59\n"
        '    deny when (user.level) and "vip" not in user.tags\n'
        "    discount { tiers { spend 200 save 20 } min spend 5 on items where item.qty > 1 }\n"
        "    priority -5\n"
        "    lottery { prize c coupon { value 1 off } weight 1 }\n"
        "}\n"
    )
    tree = parse(text)
    lines = text.splitlines()
    assert tree.span == Span(1, 1, 10, 2, "t.promo")
    assert tree.header.span == Span(1, 1, 3, 13, "t.promo")
    (c,) = tree.campaigns
    assert c.span == Span(4, 1, 10, 2, "t.promo")
    assert c.name.span == Span(4, 10, 4, 11, "t.promo")
    assert c.title is not None and c.title.span == Span(4, 12, 4, 15, "t.promo")
    window, deny, discount, priority, lottery = c.items
    assert window.span == Span(5, 5, 5, 51, "t.promo")
    assert window.end.span == Span(5, 32, 5, 51, "t.promo")
    assert deny.span.column == 5 and deny.span.end_column == len(lines[5]) + 1
    logic = deny.expr
    assert isinstance(logic, ast.Logic) and isinstance(logic.left, ast.Paren)
    assert logic.left.span == Span(6, 15, 6, 27, "t.promo")
    assert expr_start(logic).column == 16  # `user`, inside the parenthesis (11.2)
    compare = logic.right
    assert isinstance(compare, ast.Compare) and compare.op == "not in"
    assert compare.op_span == Span(6, 38, 6, 44, "t.promo")
    assert compare.span == Span(6, 32, 6, len(lines[5]) + 1, "t.promo")
    tiers, min_spend, on_items = discount.items
    assert tiers.tiers[0].span == Span(7, 24, 7, 41, "t.promo")
    assert min_spend.span == Span(7, 44, 7, 55, "t.promo")
    assert on_items.span.column == column_of(lines[6], "on items")
    assert priority.span == Span(8, 5, 8, 16, "t.promo")
    assert priority.value.span == Span(8, 14, 8, 16, "t.promo")
    (prize,) = lottery.items
    assert prize.kind.span.column == column_of(lines[8], "coupon")


def test_arithmetic_spans() -> None:
    e = expr("a + b * 2")
    assert isinstance(e, ast.Arith) and e.op_span == Span(4, 15, 4, 16)
    assert e.span == Span(4, 13, 4, 22)
    neg = expr("-x")
    assert isinstance(neg, ast.Neg) and neg.span == Span(4, 13, 4, 15)


def test_columns_count_code_points_and_a_tab_counts_one() -> None:
    d = error_of(HEADER + 'campaign c "满300减40"\t@')
    assert at(d) == (4, 22)  # 11 + 9 characters (quotes included) + 1 tab


# --- comments and line ends -------------------------------------------------------------------


def test_comments_are_collected_in_order() -> None:
    text = '# first\nruleset "x" # second\ntimezone "# not a comment" currency CNY\n  # third'
    tree = parse(text)
    assert [c.text for c in tree.comments] == ["# first", "# second", "# third"]
    assert [c.span for c in tree.comments] == [
        Span(1, 1, 1, 8, "t.promo"),
        Span(2, 13, 2, 21, "t.promo"),
        Span(4, 3, 4, 10, "t.promo"),
    ]
    assert tree.header.timezone.value == "# not a comment"


@pytest.mark.parametrize("path", EXAMPLES[:3], ids=lambda p: p.stem)
def test_crlf_line_ends_give_the_same_tree(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse(text.replace("\n", "\r\n")) == parse(text)


def test_crlf_positions_and_comments() -> None:
    tree = parse(HEADER.replace("\n", "\r\n") + "# note\r\ncampaign c {}\r\n")
    assert tree.comments[0].text == "# note"
    assert tree.campaigns[0].span == Span(5, 1, 5, 14, "t.promo")
    d = error_of(HEADER.replace("\n", "\r\n") + "\r\ncampaign c {\r\n  foo\r\n}")
    assert at(d) == (6, 3)


def test_a_byte_order_mark_is_skipped() -> None:
    assert parse("\ufeff" + HEADER).header.span == Span(1, 1, 3, 13, "t.promo")


# --- resource bounds ---------------------------------------------------------------------------


def test_a_file_over_one_mib_is_refused_before_parsing() -> None:
    big = HEADER + "#" + "x" * MAX_FILE_BYTES
    d = error_of(big)
    assert d.message == "file is larger than 1 MiB" and at(d) == (1, 1)
    # UTF-8 bytes, not characters: 3 bytes each.
    wide = HEADER + "#" + "满" * (MAX_FILE_BYTES // 3)
    assert len(wide) < MAX_FILE_BYTES
    assert error_of(wide).message == "file is larger than 1 MiB"
    exact = HEADER + "#" + "x" * (MAX_FILE_BYTES - len(HEADER) - 1)
    assert len(parse(exact).comments) == 1


def _nesting_error(text: str) -> Diagnostic:
    d = error_of(HEADER + "segment s = " + text)
    assert d.message == f"expression nested deeper than {MAX_NESTING} levels"
    return d


def test_parentheses_nest_up_to_the_limit() -> None:
    n = MAX_NESTING
    assert isinstance(expr("(" * n + "a" + ")" * n), ast.Paren)
    d = _nesting_error("(" * (n + 5) + "a" + ")" * (n + 5))
    assert at(d) == (4, 13 + n)  # the (n+1)th `(`: where the limit is crossed
    assert d.span.end_column == d.span.column + 1


def test_prefix_operators_nest() -> None:
    n = MAX_NESTING
    assert isinstance(expr("not " * n + "a"), ast.Not)
    d = _nesting_error("not " * (n + 1) + "a")
    assert at(d) == (4, 13 + 4 * n) and d.span.end_column == d.span.column + 3
    d = _nesting_error("- " * (n + 1) + "a")
    assert at(d) == (4, 13 + 2 * n)
    d = _nesting_error("[" * (n + 1) + "1" + "]" * (n + 1))
    assert at(d) == (4, 13 + n)


def test_a_chain_counts_one_level_per_operator() -> None:
    n = MAX_NESTING
    assert isinstance(expr(" or ".join(["a"] * (n + 1))), ast.Logic)
    d = _nesting_error(" or ".join(["a"] * (n + 2)))
    assert at(d) == (4, 13)  # the chain's first operand: the deepest level starts there


def test_huge_nesting_and_chains_never_recurse() -> None:
    _nesting_error("(" * 10_000 + "a" + ")" * 10_000)
    _nesting_error(" or ".join(["a"] * 10_000))
    _nesting_error("not " * 10_000 + "a")
    _nesting_error(" + ".join(["1"] * 10_000) + " > 0")


def test_nesting_is_checked_in_every_clause() -> None:
    deep = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    for body in (f"when {deep}", f"deny when {deep}", f"discount {{ on items where {deep} }}"):
        with pytest.raises(RuleError, match="nested deeper"):
            campaign(body)
    nested = f"any(items where {deep})"
    with pytest.raises(RuleError, match="nested deeper"):
        expr(nested)


def test_more_than_the_campaign_limit_is_one_error() -> None:
    body = "".join(f"campaign c{i} {{}}\n" for i in range(MAX_CAMPAIGNS + 2))
    d = error_of(HEADER + body)
    assert d.message == f"more than {MAX_CAMPAIGNS:,} campaigns in one file"
    assert d.span == Span(4 + MAX_CAMPAIGNS, 10, 4 + MAX_CAMPAIGNS, 16, "t.promo")
    ok = "".join(f"campaign c{i} {{}}\n" for i in range(MAX_CAMPAIGNS))
    assert len(parse(HEADER + ok).campaigns) == MAX_CAMPAIGNS


def test_a_number_too_long_to_mean_anything() -> None:
    d = error_of(HEADER + "segment s = " + "9" * 5000)
    assert d.message.startswith("number is too long") and at(d) == (4, 13)


def test_the_garbage_collector_is_paused_only_during_a_parse() -> None:
    assert gc.isenabled()
    parse(HEADER)
    with pytest.raises(RuleError):
        parse(HEADER + "@")
    assert gc.isenabled()
    gc.disable()
    try:
        parse(HEADER)
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- concurrency --------------------------------------------------------------------------------


def test_parses_from_several_threads_agree() -> None:
    texts = [p.read_text(encoding="utf-8") for p in EXAMPLES]
    expected = [parse_ruleset(t, str(i)) for i, t in enumerate(texts)]
    results: dict[int, ast.Ruleset] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = parse_ruleset(texts[i], str(i))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(texts))] == expected
    assert all(r.span.file == str(i) for i, r in results.items())
