"""Expressions of the tree builder (LANGUAGE.md 5, 12) and the nesting bound.

Nesting is the depth of the expression tree: each operator (binary or prefix), pair of
parentheses, list literal and any/all/count/sum is one level around its operands, so a
chain `a or b or c` is two levels. A condition deeper than MAX_NESTING is one error, at
the first construct too deep; the tree is then never deeper than MAX_NESTING constructs,
and code that walks it recursively stays far from Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from dsl import ast
from dsl.errors import Span
from dsl.syntax_errors import fail
from dsl.tokens import TokenReader, digits_ok, string_value
from dsl.vocabulary import MAX_NESTING

__all__ = ["ExprBuilder"]

_COMPARE_OPS: dict[str, ast.CompareOp] = {
    "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "in",
    "not in": "not in",
}  # fmt: skip
_ARITH_OPS: dict[str, ast.ArithOp] = {"+": "+", "-": "-", "*": "*"}

N = TypeVar("N", bound=ast.Node)


class ExprBuilder(TokenReader):
    """One method per expression alias of the grammar; see `TreeBuilder`."""

    def begin(self, file: str) -> None:
        super().begin(file)
        self.depth: dict[int, int] = {}  # id(expression) -> levels, for constructs only

    # expressions: constructs record their depth (levels) for `clause`
    def nested(self, node: N, *operands: ast.Expr) -> N:
        depth = self.depth
        depth[id(node)] = 1 + max([depth.get(id(o), 0) for o in operands], default=0)
        return node

    def clause(self, expr: ast.Expr) -> ast.Expr:
        """A whole condition: check its depth, then forget the depths recorded so far."""
        if self.depth.get(id(expr), 0) > MAX_NESTING:
            message = f"expression nested deeper than {MAX_NESTING} levels"
            raise fail(message, _first_token(self.too_deep(expr)))
        self.depth.clear()
        return expr

    def too_deep(self, root: ast.Expr) -> ast.Expr:
        """The first construct, in reading order, at level MAX_NESTING + 1 (the root is
        level 1): the descent takes the first operand deep enough at each level."""
        node, level = root, 1
        while level <= MAX_NESTING:
            needed = MAX_NESTING + 1 - level
            node = next(o for o in _operands(node) if self.depth.get(id(o), 0) >= needed)
            level += 1
        return node

    def logic_or(self, c: list[Any]) -> ast.Logic:
        left, right = c
        return self.nested(ast.Logic(left.span.through(right.span), "or", left, right), left, right)

    def logic_and(self, c: list[Any]) -> ast.Logic:
        left, right = c
        node = ast.Logic(left.span.through(right.span), "and", left, right)
        return self.nested(node, left, right)

    def logic_not(self, c: list[Any]) -> ast.Not:
        return self.nested(ast.Not(self.tok_to(c[0], c[1]), c[1]), c[1])

    def compare(self, c: list[Any]) -> ast.Compare:
        left, *ops, right = c  # one operator token, or two for `not in`
        op = _COMPARE_OPS[" ".join(t.value for t in ops)]
        node = ast.Compare(
            left.span.through(right.span), op, left, right, self.tok_to(ops[0], ops[-1])
        )
        return self.nested(node, left, right)

    def arith(self, c: list[Any]) -> ast.Arith:
        left, op, right = c
        node = ast.Arith(
            left.span.through(right.span), _ARITH_OPS[op.value], left, right, self.span(op)
        )
        return self.nested(node, left, right)

    def negate(self, c: list[Any]) -> ast.Neg:
        return self.nested(ast.Neg(self.tok_to(c[0], c[1]), c[1]), c[1])

    def path(self, c: list[Any]) -> ast.Path:
        parts = tuple(t.value for t in c if t.type == "NAME")
        return ast.Path(self.tok_to(c[0], c[-1]), parts)

    def paren(self, c: list[Any]) -> ast.Paren:
        return self.nested(ast.Paren(self.tok_to(c[0], c[2]), c[1]), c[1])

    def list_lit(self, c: list[Any]) -> ast.ListLit:
        items = tuple(c[1:-1:2])
        return self.nested(ast.ListLit(self.tok_to(c[0], c[-1]), items), *items)

    def any_items(self, c: list[Any]) -> ast.AnyItems:
        return self.nested(ast.AnyItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def all_items(self, c: list[Any]) -> ast.AllItems:
        return self.nested(ast.AllItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def count_all(self, c: list[Any]) -> ast.CountItems:
        return self.nested(ast.CountItems(self.tok_to(c[0], c[3]), None))

    def count_where(self, c: list[Any]) -> ast.CountItems:
        return self.nested(ast.CountItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def sum_all(self, c: list[Any]) -> ast.SumItems:
        return self.nested(ast.SumItems(self.tok_to(c[0], c[5]), c[2], None), c[2])

    def sum_where(self, c: list[Any]) -> ast.SumItems:
        node = ast.SumItems(self.tok_to(c[0], c[7]), c[2], c[6])
        return self.nested(node, c[2], c[6])

    def runtime_list(self, c: list[Any]) -> ast.RuntimeList:
        return ast.RuntimeList(self.tok_to(c[0], c[1]), self.str_(c[1]))

    def number_lit(self, c: list[Any]) -> ast.NumberLit:
        t = c[0]
        digits_ok(t, self.file)
        return ast.NumberLit(self.span(t), Decimal(t.value), t.value)

    def string_lit(self, c: list[Any]) -> ast.StringLit:
        return ast.StringLit(self.span(c[0]), string_value(c[0], self.file))

    def duration_lit(self, c: list[Any]) -> ast.DurationLit:
        d = self.duration_of(c[0])
        return ast.DurationLit(d.span, d.seconds, d.text)

    def datetime_lit(self, c: list[Any]) -> ast.DateTimeLit:
        value = self.datetime_of(c[0], c[1])
        return ast.DateTimeLit(value.span, value)

    def true_lit(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(self.span(c[0]), True)

    def false_lit(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(self.span(c[0]), False)


def _operands(e: ast.Expr) -> Sequence[ast.Expr]:
    """The sub-expressions of `e`, in text order."""
    if isinstance(e, ast.Logic | ast.Arith | ast.Compare):
        return (e.left, e.right)
    if isinstance(e, ast.Paren):
        return (e.inner,)
    if isinstance(e, ast.Not | ast.Neg):
        return (e.operand,)
    if isinstance(e, ast.ListLit):
        return e.items
    if isinstance(e, ast.AnyItems | ast.AllItems | ast.CountItems):
        return (e.cond,) if e.cond is not None else ()
    if isinstance(e, ast.SumItems):
        return (e.value, e.cond) if e.cond is not None else (e.value,)
    return ()


# Width of the opening token of each prefix construct.
_OPENER = {
    ast.Paren: 1, ast.ListLit: 1, ast.Neg: 1, ast.Not: 3, ast.AnyItems: 3, ast.AllItems: 3,
    ast.CountItems: 5, ast.SumItems: 3,
}  # fmt: skip


def _first_token(e: ast.Expr) -> Span:
    while isinstance(e, ast.Logic | ast.Arith | ast.Compare):
        e = e.left
    s = e.span
    width = _OPENER.get(type(e))
    return Span(s.line, s.column, s.line, s.column + width, s.file) if width else s
