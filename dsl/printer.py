"""Canonical text of expressions and literals.

One spelling per expression: single spaces around binary operators, parentheses exactly
where the author wrote them (a `Paren` node) plus any the tree needs for precedence, and
literals as written. The compiler keys item filters and coupon terms by this text, and
`promo fmt` prints expressions with it, so formatting never changes a filter's identity.
"""

from __future__ import annotations

from dsl import ast

# Binding strength, loosest first (LANGUAGE.md 5.1).
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _PRIMARY = range(1, 9)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def string_text(value: str) -> str:
    """A string literal with the escapes of LANGUAGE.md 2.4."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def datetime_text(value: ast.DateTime) -> str:
    return value.date.text + (" " + value.time.text if value.time is not None else "")


def expr_text(expr: ast.Expr) -> str:
    """The canonical text of `expr`.

    >>> from dsl.errors import Span
    >>> s = Span(1, 1, 1, 2)
    >>> expr_text(ast.Compare(s, ">=", ast.Path(s, ("user", "level")), ast.NumberLit(s, 1, "1"), s))
    'user.level >= 1'
    """
    return _text(expr, 0)


def _strength(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Logic):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, ast.Not):
        return _NOT
    if isinstance(expr, ast.Compare):
        return _COMPARE
    if isinstance(expr, ast.Arith):
        return _PRODUCT if expr.op == "*" else _SUM
    if isinstance(expr, ast.Neg):
        return _UNARY
    return _PRIMARY


def _text(expr: ast.Expr, outer: int) -> str:
    """`expr` printed where the surrounding operator binds with strength `outer`."""
    text = _bare(expr)
    return f"({text})" if _strength(expr) < outer else text


def _bare(expr: ast.Expr) -> str:
    match expr:
        case ast.Logic(op=op, left=left, right=right):
            level = _strength(expr)
            # Left-associative: the right operand needs parentheses at the same level.
            return f"{_text(left, level)} {op} {_text(right, level + 1)}"
        case ast.Arith(op=op, left=left, right=right):
            level = _strength(expr)
            return f"{_text(left, level)} {op} {_text(right, level + 1)}"
        case ast.Compare(op=op, left=left, right=right):
            # Comparisons do not chain: both sides bind tighter.
            return f"{_text(left, _SUM)} {op} {_text(right, _SUM)}"
        case ast.Not(operand=operand):
            return f"not {_text(operand, _NOT)}"
        case ast.Neg(operand=operand):
            return f"-{_text(operand, _UNARY)}"
        case ast.Paren(inner=inner):
            return f"({_bare(inner)})"
        case _:
            return _primary(expr)


def _primary(expr: ast.Expr) -> str:
    match expr:
        case ast.NumberLit(text=text) | ast.DurationLit(text=text):
            return text
        case ast.StringLit(value=value):
            return string_text(value)
        case ast.BoolLit(value=value):
            return "true" if value else "false"
        case ast.DateTimeLit(value=value):
            return datetime_text(value)
        case ast.Path():
            return expr.text
        case ast.ListLit(items=items):
            return "[" + ", ".join(_text(i, 0) for i in items) + "]"
        case ast.RuntimeList(name=name):
            return f"list {string_text(name.value)}"
        case ast.AnyItems(cond=cond):
            return f"any(items where {_text(cond, 0)})"
        case ast.AllItems(cond=cond):
            return f"all(items where {_text(cond, 0)})"
        case ast.CountItems(cond=cond):
            return "count(items)" if cond is None else f"count(items where {_text(cond, 0)})"
        case ast.SumItems(value=value, cond=cond):
            where = "" if cond is None else f" where {_text(cond, 0)}"
            return f"sum({_text(value, 0)} for items{where})"
    raise TypeError(f"not an expression: {type(expr).__name__}")
