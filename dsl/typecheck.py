"""Expression types (LANGUAGE.md 5.3) and where a type mismatch is reported (11.2).

`infer` returns an expression's type, or None when the expression holds an error that
was already reported: an expression in error is not checked further, so one mistake
gives one error. Sub-expressions are still checked, since each can hold its own mistake.

Chains (`a or b or …`, `a + b - …`, `not not …`, `- - …`) and parentheses are walked in
loops, so recursion follows nesting alone: two frames per level, whatever a chain's length.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from dsl import ast
from dsl.ast import expr_start
from dsl.names import Resolver, Scope
from dsl.operators import arith_result, compare_problem, operand_problem
from dsl.report import Report
from dsl.values import check_datetime
from dsl.vocabulary import ExprType

Chain = TypeVar("Chain", ast.Logic, ast.Arith)


class ExprChecker:
    def __init__(self, report: Report, resolver: Resolver) -> None:
        self.report = report
        self.resolver = resolver

    def clause(self, expr: ast.Expr, scope: Scope) -> bool:
        """A condition (`segment`, `when`, `deny when`, `where`): it must be bool.
        True when the condition holds no error."""
        try:
            found = self.infer(expr, scope)
        except RecursionError:
            # The parser bounds nesting; a hand-built tree might not be.
            self.report.error("expression nested too deeply to check", expr_start(expr))
            return False
        if found is not None and found != "bool":
            self._mismatch(f"{scope.clause} needs bool, found {found}", expr)
            return False
        return found is not None

    def infer(self, expr: ast.Expr, scope: Scope) -> ExprType | None:
        expr = _strip(expr)
        match expr:
            case ast.NumberLit():
                return "number"
            case ast.StringLit():
                return "string"
            case ast.BoolLit():
                return "bool"
            case ast.DurationLit():
                return "duration"
            case ast.DateTimeLit():
                return "datetime" if check_datetime(expr.value, self.report) else None
            case ast.Path():
                return self.resolver.path(expr, scope)
            case ast.RuntimeList():
                name = expr.name.value
                self.report.error(f"list \"{name}\" can only follow 'in' or 'not in'", expr.span)
                return None
            case ast.ListLit():
                return self._list(expr, scope)
            case ast.Not() | ast.Neg():
                return self._prefix(expr, scope)
            case ast.Logic():
                return self._logic(expr, scope)
            case ast.Arith():
                return self._arith(expr, scope)
            case ast.Compare():
                return self._compare(expr, scope)
            case ast.AnyItems() | ast.AllItems() | ast.CountItems() | ast.SumItems():
                return self._items(expr, scope)
        return None  # not an expression node: nothing a parser produces

    def _mismatch(self, message: str, at: ast.Expr) -> None:
        self.report.error(f"type mismatch: {message}", expr_start(at))

    def _list(self, expr: ast.ListLit, scope: Scope) -> ExprType | None:
        found = [self.infer(item, scope) for item in expr.items]
        if not found or any(t is None for t in found):
            return None
        first = found[0]
        if first not in ("string", "number"):
            self._mismatch(f"a list holds strings or numbers, found {first}", expr.items[0])
            return None
        for item, item_type in zip(expr.items, found, strict=True):
            if item_type != first:
                self._mismatch(f"a list holds one type, expected {first}, found {item_type}", item)
                return None
        return "list of string" if first == "string" else "list of number"

    def _prefix(self, expr: ast.Not | ast.Neg, scope: Scope) -> ExprType | None:
        operand: ast.Expr = expr
        while isinstance(operand, type(expr)):
            operand = _strip(operand.operand)
        found = self.infer(operand, scope)
        if found is None:
            return None
        if isinstance(expr, ast.Not):
            if found != "bool":
                self._mismatch(f"'not' needs bool, found {found}", operand)
                return None
            return "bool"
        if found not in ("number", "duration"):
            self._mismatch(f"prefix '-' needs a number or a duration, found {found}", operand)
            return None
        return found

    def _logic(self, expr: ast.Logic, scope: Scope) -> ExprType | None:
        chain = _left_spine(expr, ast.Logic)
        first = chain[0].left
        ok = self._bool_operand(self.infer(first, scope), first, chain[0].op)
        for node in chain:
            right = self.infer(node.right, scope)
            ok = ok and self._bool_operand(right, node.right, node.op)
        return "bool" if ok else None

    def _bool_operand(self, found: ExprType | None, operand: ast.Expr, op: str) -> bool:
        if found is None:
            return False
        if found != "bool":
            self._mismatch(f"'{op}' needs bool on both sides, found {found}", operand)
            return False
        return True

    def _arith(self, expr: ast.Arith, scope: Scope) -> ExprType | None:
        chain = _left_spine(expr, ast.Arith)
        result = self.infer(chain[0].left, scope)
        for node in chain:
            right = self.infer(node.right, scope)
            if result is None or right is None:
                result = None
                continue
            result = self._arith_step(node, result, right)
        return result

    def _arith_step(self, node: ast.Arith, left: ExprType, right: ExprType) -> ExprType | None:
        problem = operand_problem(node.op, "left", left)
        if problem:
            self._mismatch(problem, node.left)
            return None
        problem = operand_problem(node.op, "right", right)
        if problem:
            self._mismatch(problem, node.right)
            return None
        result, problem = arith_result(node.op, left, right)
        if problem:
            self._mismatch(problem, node)
        return result

    def _compare(self, expr: ast.Compare, scope: Scope) -> ExprType | None:
        left = self.infer(expr.left, scope)
        if expr.op in ("in", "not in") and isinstance(_strip(expr.right), ast.RuntimeList):
            listed = _strip(expr.right)
            assert isinstance(listed, ast.RuntimeList)
            right = self.resolver.runtime_list(listed, scope)
        else:
            right = self.infer(expr.right, scope)
        if left is None or right is None:
            return None
        problem, at_right = compare_problem(expr.op, left, right)
        if problem:
            self._mismatch(problem, expr.right if at_right else expr)
            return None
        self._warn_date_only(expr, left, right)
        return "bool"

    def _warn_date_only(self, expr: ast.Compare, left: ExprType, right: ExprType) -> None:
        """`now <= 2026-11-11` ends at 00:00:00 of that day, rarely what was meant (11.4)."""
        if expr.op in ("<=", ">") and left == "datetime":
            date = _date_only(expr.right)
        elif expr.op in (">=", "<") and right == "datetime":
            date = _date_only(expr.left)
        else:
            return
        if date is None:
            return
        day = date.date.text
        if expr.op in ("<=", ">="):
            effect = f"holds only up to {day} 00:00:00, not through that day"
        else:
            effect = f"already holds during {day}, not only after that day"
        self.report.warn(
            f"a date without a time means 00:00:00: this comparison {effect}; "
            f"write {day} 23:59:59 if the whole day was meant",
            date.span,
        )

    def _items(
        self, expr: ast.AnyItems | ast.AllItems | ast.CountItems | ast.SumItems, scope: Scope
    ) -> ExprType | None:
        inner = replace(scope, item=True)
        ok = True
        if isinstance(expr, ast.SumItems):
            value = self.infer(expr.value, inner)
            if value is not None and value != "number":
                self._mismatch(f"'sum' adds up numbers, found {value}", expr.value)
            ok = value == "number"
        if expr.cond is not None:
            # Inferred here rather than through clause(), to keep two frames per level.
            cond = self.infer(expr.cond, inner)
            if cond is not None and cond != "bool":
                self._mismatch(f"'where' needs bool, found {cond}", expr.cond)
            ok = ok and cond == "bool"
        if not ok:
            return None
        return "bool" if isinstance(expr, ast.AnyItems | ast.AllItems) else "number"


def _strip(expr: ast.Expr) -> ast.Expr:
    while isinstance(expr, ast.Paren):
        expr = expr.inner
    return expr


def _left_spine(expr: Chain, kind: type[Chain]) -> list[Chain]:
    """The nodes of a left-associative chain, innermost (leftmost) first."""
    chain = [expr]
    while isinstance(chain[-1].left, kind):
        chain.append(chain[-1].left)
    chain.reverse()
    return chain


def _date_only(expr: ast.Expr) -> ast.DateTime | None:
    expr = _strip(expr)
    if isinstance(expr, ast.DateTimeLit) and expr.value.time is None:
        return expr.value
    return None
