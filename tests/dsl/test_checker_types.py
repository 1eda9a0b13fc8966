"""Expression types (LANGUAGE.md 5.3) and where a mismatch is reported (11.2): at the
operand that does not fit its operator, at the start of a comparison or arithmetic
expression whose operands do not go together, at the expression of a clause."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dsl import ast
from dsl.checker import check_ruleset
from dsl.errors import Diagnostic, Span
from dsl.parser import parse_ruleset

HEADER = 'ruleset "t"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'


def diagnose(text: str) -> list[Diagnostic]:
    return check_ruleset(parse_ruleset(text))


def errors(text: str) -> list[tuple[int, int, str]]:
    return [
        (d.span.line, d.span.column, d.message) for d in diagnose(text) if d.severity == "error"
    ]


def when(expr: str) -> str:
    """Rules whose one `when` is `expr`, on line 6 from column 10."""
    return (
        f"{HEADER}segment members = user.level >= 1\ncampaign c {{\n    when {expr}\n"
        "    window 2026-11-11 .. 2026-11-11\n    discount { value 10 off }\n}\n"
    )


def column_of(expr: str, needle: str) -> int:
    return 10 + expr.index(needle)


@pytest.mark.parametrize(
    ("expr", "needle", "phrase"),
    [
        # a clause that needs bool: at the clause's expression
        ("user.level", "user", "'when' needs bool, found number"),
        ("(user.level + 1)", "user", "'when' needs bool, found number"),
        # operands of and / or / not: at the operand; the left one when both are wrong
        (
            "(user.level) and user.is_new",
            "user.level",
            "'and' needs bool on both sides, found number",
        ),
        ("user.is_new or channel", "channel", "'or' needs bool on both sides, found string"),
        ("user.level and channel", "user.level", "found number"),
        ("not user.tags", "user.tags", "'not' needs bool, found list of string"),
        # operands of arithmetic that the side never takes: at the operand
        (
            'user.level + "a" > 1',
            '"a"',
            "'+' needs a number or a duration on the right, found string",
        ),
        ("user.is_new + 1 > 1", "user.is_new", "on the left, found bool"),
        ("1 + now > now", "now", "on the right, found datetime"),
        ("user.account_age * 2 > 1d", "user.account_age", "'*' needs a number on the left"),
        ("-channel == 1", "channel", "prefix '-' needs a number or a duration, found string"),
        # operands that do not go together: at the start of the expression
        ('members and user.level == "gold"', "user.level", "cannot compare number with string"),
        ("now + 5 > now", "now", "cannot add a number to a datetime"),
        (
            "user.account_age - now > 1d",
            "user.account_age",
            "cannot subtract a datetime from a duration",
        ),
        ("user.tags == user.tags", "user.tags", "cannot compare lists with '=='"),
        ('channel < "b"', "channel", "'<' needs numbers, datetimes or durations, found string"),
        ("user.is_new >= true", "user.is_new", "found bool"),
        (
            'user.level in ["a", "b"]',
            "user.level",
            "'in' needs a string on the left of a list of string, found number",
        ),
        # the right side of in: at that operand
        ('"vip" in user.id', "user.id", "'in' needs a list on the right, found string"),
        ('"vip" not in channel', "channel", "'not in' needs a list on the right, found string"),
        # list literals hold one type
        ('channel in ["a", 1]', "1", "a list holds one type, expected string, found number"),
        ("user.is_new in [true]", "true", "a list holds strings or numbers, found bool"),
        # item expressions
        ("sum(item.sku for items) > 1", "item.sku", "'sum' adds up numbers, found string"),
        ("any(items where item.price)", "item.price", "'where' needs bool, found number"),
        ("count(items where item.qty) > 1", "item.qty", "'where' needs bool, found number"),
    ],
)
def test_type_mismatch_position_and_message(expr: str, needle: str, phrase: str) -> None:
    found = errors(when(expr))
    assert len(found) == 1, found
    line, column, message = found[0]
    assert (line, column) == (6, column_of(expr, needle)), found
    assert message.startswith("type mismatch: ") and phrase in message, message


@pytest.mark.parametrize(
    "expr",
    [
        "user.level >= 1 and user.risk_score < 50",
        "user.account_age >= 7d and now - 7d > user.registered_at",
        "now - user.registered_at >= 1d + 2h",
        "-user.level < 0 and -(1d) < 0s",
        "user.level * 2 + 1 >= 3 and user.level - 1 != 0",
        '"vip" in user.tags and user.level in [1, 2, 3] and channel not in ["a"]',
        'user.is_new == true and channel != "" and now == 2026-01-01 10:00',
        "count(items) >= 3 and sum(1 for items where item.qty > 1) >= 1",
        "not not user.is_new",
    ],
)
def test_well_typed_expressions(expr: str) -> None:
    assert errors(when(expr)) == []


def test_segment_clause_needs_bool() -> None:
    text = HEADER + "segment big = cart.total + 1\n"
    assert errors(text) == [(4, 15, "type mismatch: segment 'big' needs bool, found number")]


def test_deny_when_and_where_clauses_need_bool() -> None:
    text = (
        f"{HEADER}campaign c {{\n    window 2026-11-11 .. 2026-11-11\n    deny when channel\n"
        "    discount { value 1 off  on items where item.sku }\n}\n"
    )
    assert [m for _, _, m in errors(text)] == [
        "type mismatch: 'deny when' needs bool, found string",
        "type mismatch: 'on items where' needs bool, found string",
    ]


@pytest.mark.parametrize(
    "expr",
    [
        'user.levle >= "gold"',  # unknown field inside a mismatched comparison
        "memebrs and 5",  # unknown name, then a number operand
        'item.price > "a"',  # item outside its scope
        "user + 1 > 2",  # bare root
        '2026-02-30 < "x"',  # invalid date
        '(list "a") == 1',  # misplaced runtime list
    ],
)
def test_one_mistake_gives_one_error(expr: str) -> None:
    found = errors(when(expr))
    assert len(found) == 1, found


def test_independent_mistakes_are_each_reported() -> None:
    found = errors(when("user.levle >= 1 and user.rsk_score < 5"))
    assert [m.split(";")[0] for _, _, m in found] == [
        "unknown field 'user.levle'",
        "unknown field 'user.rsk_score'",
    ]


def tree_with(condition: ast.Expr) -> ast.Ruleset:
    """The rules of `when("true")` with `condition` in place of `true`."""
    tree = parse_ruleset(when("true"))
    campaign = tree.campaigns[0]
    items = tuple(
        ast.WhenItem(item.span, condition) if isinstance(item, ast.WhenItem) else item
        for item in campaign.items
    )
    return replace(tree, decls=(*tree.segments, replace(campaign, items=items)))


def test_long_chains_are_walked_without_recursion() -> None:
    span = Span(6, 10, 6, 11)
    condition: ast.Expr = ast.BoolLit(span, True)
    number: ast.Expr = ast.NumberLit(span, Decimal(1), "1")
    for _ in range(5000):
        condition = ast.Logic(span, "or", condition, ast.Not(span, ast.BoolLit(span, False)))
        one = ast.Neg(span, ast.NumberLit(span, Decimal(1), "1"))
        number = ast.Arith(span, "+", number, one, span)
    for _ in range(5000):
        condition = ast.Not(span, ast.Paren(span, condition))
    compare = ast.Compare(span, ">", number, ast.NumberLit(span, Decimal(0), "0"), span)
    full = ast.Logic(span, "and", condition, compare)
    assert [d for d in check_ruleset(tree_with(full)) if d.severity == "error"] == []


def test_a_tree_deeper_than_the_parser_allows_is_an_error_not_a_crash() -> None:
    span = Span(6, 10, 6, 11)
    deep: ast.Expr = ast.StringLit(span, "x")
    for _ in range(20_000):
        deep = ast.ListLit(span, (deep,))
    condition = ast.Compare(span, "in", ast.StringLit(span, "x"), deep, span)
    found = [d for d in check_ruleset(tree_with(condition)) if d.severity == "error"]
    assert [d.message for d in found] == ["expression nested too deeply to check"]


def test_attribute_of_unknown_type_is_not_reported_again() -> None:
    text = (
        f"{HEADER}context {{\n    user.score: strng\n}}\ncampaign c {{\n"
        "    window 2026-11-11 .. 2026-11-11\n    when user.score > 1\n"
        "    discount { value 1 off }\n}\n"
    )
    assert [m for _, _, m in errors(text)] == ["unknown type 'strng'; did you mean 'string'?"]


def test_date_literal_in_an_expression_is_a_datetime() -> None:
    assert errors(when("user.registered_at >= 2026-01-01 and now < 2026-12-01 10:00:00")) == []
    assert "invalid date '2026-13-01'" in errors(when("now < 2026-13-01"))[0][2]
