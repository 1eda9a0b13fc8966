"""The operator table of LANGUAGE.md 5.3, and what a mismatch says.

Two kinds of problems, reported at different places (11.2): an operand whose own type
the operator never takes on that side (at the operand), and two well-typed operands that
do not go together (at the start of the whole expression).
"""

from __future__ import annotations

from typing import Final, Literal

from dsl.vocabulary import ExprType

Side = Literal["left", "right"]

_SIDES: Final[dict[tuple[str, Side], tuple[ExprType, ...]]] = {
    ("+", "left"): ("number", "datetime", "duration"),
    ("+", "right"): ("number", "duration"),
    ("-", "left"): ("number", "datetime", "duration"),
    ("-", "right"): ("number", "datetime", "duration"),
    ("*", "left"): ("number",),
    ("*", "right"): ("number",),
}

_RESULTS: Final[dict[tuple[str, ExprType, ExprType], ExprType]] = {
    ("+", "number", "number"): "number",
    ("+", "datetime", "duration"): "datetime",
    ("+", "duration", "duration"): "duration",
    ("-", "number", "number"): "number",
    ("-", "datetime", "duration"): "datetime",
    ("-", "datetime", "datetime"): "duration",
    ("-", "duration", "duration"): "duration",
    ("*", "number", "number"): "number",
}

_ORDERED: Final = ("number", "datetime", "duration")
_ELEMENT: Final[dict[ExprType, ExprType]] = {"list of string": "string", "list of number": "number"}


def _a(type_name: str) -> str:
    return f"a {type_name}"


def operand_problem(op: str, side: Side, found: ExprType) -> str | None:
    """Why `found` can never stand on that side of `op`, or None when it may."""
    allowed = _SIDES.get((op, side))
    if allowed is None or found in allowed:
        return None
    expected = ", ".join(_a(t) for t in allowed[:-1])
    expected = f"{expected} or {_a(allowed[-1])}" if expected else _a(allowed[-1])
    return f"'{op}' needs {expected} on the {side}, found {found}"


def arith_result(op: str, left: ExprType, right: ExprType) -> tuple[ExprType | None, str | None]:
    """The type of `left op right`, or the problem when the two do not go together."""
    result = _RESULTS.get((op, left, right))
    if result is not None:
        return result, None
    if op == "+":
        return None, f"cannot add {_a(right)} to {_a(left)}"
    if op == "-":
        return None, f"cannot subtract {_a(right)} from {_a(left)}"
    return None, f"'{op}' needs numbers, found {left} and {right}"


def compare_problem(op: str, left: ExprType, right: ExprType) -> tuple[str | None, bool]:
    """The problem with `left op right`, and whether it lies with the right operand alone
    (`in` without a list) rather than with the comparison as a whole."""
    if op in ("in", "not in"):
        element = _ELEMENT.get(right)
        if element is None:
            return f"'{op}' needs a list on the right, found {right}", True
        if element != left:
            return f"'{op}' needs {_a(element)} on the left of {_a(right)}, found {left}", False
        return None, False
    if left != right:
        return f"cannot compare {left} with {right}", False
    if op in ("==", "!=") and left in _ELEMENT:
        return f"cannot compare lists with '{op}'; use 'in' to test membership", False
    if op not in ("==", "!=") and left not in _ORDERED:
        return f"'{op}' needs numbers, datetimes or durations, found {left}", False
    return None, False
