"""Long conditions for `promo fmt`: where a condition breaks across lines.

A condition stays on one line when it fits in WIDTH columns and no comment sits at one
of its breaks. Otherwise it breaks before each top-level `or` (or, in a chain of `and`s,
each `and`), and each new line starts under the condition's first character:

    segment risky = user.risk_score >= 80
                    or "fraud" in user.tags

An operand that is itself too long breaks the same way one level down, under its own
first character; so does the inside of parentheses, `not`, and `any`, `all`, `count` and
`sum`. Nothing else breaks: a long list literal stays on its line.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl import ast
from dsl.printer import expr_text
from dsl.weave import Pos, SourceIndex, end

WIDTH = 100


@dataclass(frozen=True, slots=True)
class Piece:
    """A part of a condition on one line. `anchor` is the source position of its first
    token, or None for the first piece, which continues the line the condition starts."""

    column: int
    text: str
    anchor: Pos | None


def place(
    expr: ast.Expr, column: int, index: SourceIndex, tail: int = 0, margin: int | None = None
) -> list[Piece]:
    """`expr` laid out from `column`, with `tail` more characters after it on its last
    line (closing parentheses). Its continuation lines start at `margin` (default:
    `column`)."""
    wrapper = _wrapper(expr)
    if wrapper is not None:
        # What is inside parentheses lines up under its own first character.
        opening, inner, closing = wrapper
        pieces = place(inner, column + len(opening), index, tail + len(closing))
        pieces[0] = Piece(column, opening + pieces[0].text, pieces[0].anchor)
        last = pieces[-1]
        pieces[-1] = Piece(last.column, last.text + closing, last.anchor)
        return pieces
    chain = _chain(expr)
    flat = expr_text(expr)
    if chain is None:
        return [Piece(column, flat, None)]
    op, operands = chain
    if column + len(flat) + tail <= WIDTH and not _comment_at_break(operands, index):
        return [Piece(column, flat, None)]
    left = column if margin is None else margin
    rest = left + len(op) + 1  # where the operands after the first start
    # The first operand's own breaks go one step in too, so that no `and` lines up
    # with the `or`s around it.
    pieces = place(operands[0], column, index, 0, rest)
    for k in range(1, len(operands)):
        sub = place(operands[k], rest, index, tail if k == len(operands) - 1 else 0)
        keyword = index.next_token(end(operands[k - 1].span))
        sub[0] = Piece(left, f"{op} {sub[0].text}", keyword)
        pieces += sub
    return pieces


def _chain(expr: ast.Expr) -> tuple[str, list[ast.Expr]] | None:
    """The operands of `a or b or c` (or of `and`), in order; None for anything else.
    Chains lean left, so walking the left side finds them all without recursion."""
    if not isinstance(expr, ast.Logic):
        return None
    op = expr.op
    operands: list[ast.Expr] = []
    node: ast.Expr = expr
    while isinstance(node, ast.Logic) and node.op == op:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return op, operands


def _wrapper(expr: ast.Expr) -> tuple[str, ast.Expr, str] | None:
    """Constructs around one condition that may break inside them: (before, inside, after)."""
    match expr:
        case ast.Paren(inner=inner):
            return "(", inner, ")"
        case ast.Not(operand=operand):
            return "not ", operand, ""
        case ast.AnyItems(cond=cond):
            return "any(items where ", cond, ")"
        case ast.AllItems(cond=cond):
            return "all(items where ", cond, ")"
        case ast.CountItems(cond=cond) if cond is not None:
            return "count(items where ", cond, ")"
        case ast.SumItems(value=value, cond=cond) if cond is not None:
            return f"sum({expr_text(value)} for items where ", cond, ")"
    return None


def _comment_at_break(operands: list[ast.Expr], index: SourceIndex) -> bool:
    """A comment between an operand and the `or` / `and` that follows it: breaking there
    keeps it next to the operand it annotates."""
    for left in operands[:-1]:
        after = end(left.span)
        if index.has_comment(after, index.next_token(after)):
            return True
    return False
