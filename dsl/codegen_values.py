"""Typed values of compiled expressions and their algebra (`dsl/codegen.py`).

A `Val` is a constant or a Python `ast` expression with its kind and decimal scale; the
functions here combine them (scale alignment, comparison, negation, `and` / `or`) and
fold constants, without knowing where the value is computed. They track what computing
a value computes (`computes`), which the generator needs to pick how shared values are
read; keeping that here leaves `codegen.py` the job of deciding where code goes.
"""

from __future__ import annotations

import ast as py
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from dsl.pyast import LOAD, POS, const

Key = tuple[Any, ...]
"""The structure of an expression (`codegen.expr_key`): equal keys, equal meaning."""

_CMP: dict[str, type[py.cmpop]] = {
    "==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt, ">=": py.GtE,
    "in": py.In, "not in": py.NotIn,
}  # fmt: skip
_INVERSE = {py.Eq: py.NotEq, py.NotEq: py.Eq, py.Lt: py.GtE, py.GtE: py.Lt, py.Gt: py.LtE,
            py.LtE: py.Gt, py.In: py.NotIn, py.NotIn: py.In}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Val:
    """A compiled expression. `kind`: bool str num dec time dur strs nums. A constant has
    no `node` and holds `const` (numbers as exact Fractions); a list literal with
    non-constant elements holds `items`. A `num` node's value is `node / 10**scale`."""

    kind: str
    node: py.expr | None = None
    const: Any = None
    scale: int = 0
    items: tuple[Val, ...] | None = None
    computes: frozenset[Key] = frozenset()  # lazy values computed once this has run

    @property
    def is_const(self) -> bool:
        return self.node is None and self.items is None


TRUE, FALSE = Val("bool", const=True), Val("bool", const=False)


def min_scale(value: Fraction) -> int:
    """The fewest decimals that write `value` exactly (rule numbers are decimals)."""
    scale = 0
    while (value * 10**scale).denominator != 1:
        scale += 1
    return scale


def scale(v: Val) -> int:
    return min_scale(v.const) if v.is_const else v.scale


def at(v: Val, scale: int) -> py.expr:
    """A number as an integer at `scale` (not below its own)."""
    if v.is_const:
        return const(int(v.const * 10**scale))
    assert v.node is not None
    if scale == v.scale:
        return v.node
    return py.BinOp(v.node, py.Mult(), const(10 ** (scale - v.scale)), **POS)


def node(v: Val) -> py.expr:
    """A non-number value (or a number at scale 0) as an expression."""
    if v.items is not None:
        return py.Tuple([node(x) for x in v.items], LOAD, **POS)
    if v.node is None:
        return const(int(v.const) if isinstance(v.const, Fraction) else v.const)
    return v.node


def compare(left: py.expr, op: str, right: py.expr) -> Val:
    return Val("bool", py.Compare(left, [_CMP[op]()], [right], **POS))


def negate(v: Val) -> Val:
    if v.is_const:
        return Val("bool", const=not v.const)
    node = v.node
    if isinstance(node, py.Compare) and len(node.ops) == 1:
        inverse = _INVERSE[type(node.ops[0])]()
        return Val("bool", py.Compare(node.left, [inverse], node.comparators, **POS))
    assert node is not None
    return Val("bool", py.UnaryOp(py.Not(), node, **POS))


def logic(op: str, a: Val, b: Val) -> Val:
    """`and` / `or`, folding constants (expressions are pure, so dropping one is safe)."""
    absorbing = op == "or"  # the constant that decides the result on its own
    for x, y in ((a, b), (b, a)):
        if x.is_const:
            return x if x.const == absorbing else y
    kind = py.Or if absorbing else py.And
    values: list[py.expr] = []
    for v in (a, b):
        assert v.node is not None
        n = v.node
        values += n.values if isinstance(n, py.BoolOp) and isinstance(n.op, kind) else [n]
    return Val("bool", py.BoolOp(kind(), values, **POS))


def effects(result: Val, operands: Sequence[Val], only: Val | None = None) -> Val:
    """`result` with what computing it computes: an operand kept as it is keeps its own,
    a constant computes nothing, a new node what its operands (or `only`) compute."""
    if result.is_const or any(result is v for v in operands):
        return result
    sources = [only] if only is not None else operands
    computes = frozenset().union(*(v.computes for v in sources))
    return replace(result, computes=computes) if computes else result


def fold(op: str, values: list[Val], empty: Val) -> Val:
    """`v1 op v2 op ...`: what the first computes is computed whatever the others do."""
    result = empty
    for v in values:
        result = (
            effects(logic(op, result, v), [result, v], only=result) if result is not empty else v
        )
    return result
