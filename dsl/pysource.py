"""The source text of a generated module, for `generated_source` (debugging, `promo
explain`).

Rendered from the module's own tree rather than with `ast.unparse`, which parenthesizes
differently and is several times slower: this covers only the nodes `dsl/codegen.py`
builds, and large rule files make many of them.
"""

from __future__ import annotations

import ast as py
from collections.abc import Callable
from typing import Any

_OPS = {py.Add: "+", py.Sub: "-", py.Mult: "*", py.Eq: "==", py.NotEq: "!=", py.Lt: "<",
        py.LtE: "<=", py.Gt: ">", py.GtE: ">=", py.In: "in", py.NotIn: "not in",
        py.IsNot: "is not", py.And: "and", py.Or: "or", py.Not: "not ", py.USub: "-"}  # fmt: skip
_OP_PREC = {py.Or: 2, py.And: 3, py.Not: 4, py.Add: 10, py.Sub: 10, py.Mult: 11, py.USub: 12}
Text = tuple[str, int]  # source text and how tightly it binds (Python's precedence)


def _wrap(text: Text, outer: int) -> str:
    return f"({text[0]})" if text[1] < outer else text[0]


def _expr(node: py.expr, outer: int = 0) -> str:
    """Source text of an expression built here, parenthesized where `outer` binds tighter
    (`ast.unparse` gives the same tree several times slower)."""
    return _wrap(_RENDER[type(node)](node), outer)


def _render_op(node: Any) -> Text:
    p = _OP_PREC[type(node.op)]
    op = _OPS[type(node.op)]
    if isinstance(node, py.BoolOp):
        return f" {op} ".join(_expr(v, p + 1) for v in node.values), p
    if isinstance(node, py.UnaryOp):
        return f"{op}{_expr(node.operand, p)}", p
    return f"{_expr(node.left, p)} {op} {_expr(node.right, p + 1)}", p


def _render_compare(node: Any) -> Text:
    rights = (
        f"{_OPS[type(o)]} {_expr(r, 6)}" for o, r in zip(node.ops, node.comparators, strict=True)
    )
    return " ".join((_expr(node.left, 6), *rights)), 5


def _items(nodes: list[py.expr]) -> str:
    return ", ".join(_expr(n, 1) for n in nodes)


_RENDER: dict[type, Callable[[Any], Text]] = {
    py.Name: lambda n: (n.id, 16),
    py.Constant: lambda n: (repr(n.value), 16),
    py.Attribute: lambda n: (f"{_expr(n.value, 16)}.{n.attr}", 16),
    py.Subscript: lambda n: (f"{_expr(n.value, 16)}[{_expr(n.slice)}]", 16),
    py.Call: lambda n: (f"{_expr(n.func, 16)}({_items(n.args)})", 16),
    py.Tuple: lambda n: (f"({_items(n.elts)}{',' if len(n.elts) == 1 else ''})", 16),
    py.List: lambda n: (f"[{_items(n.elts)}]", 16),
    py.NamedExpr: lambda n: (f"({_expr(n.target)} := {_expr(n.value, 1)})", 16),
    py.IfExp: lambda n: (f"{_expr(n.body, 2)} if {_expr(n.test, 2)} else {_expr(n.orelse, 1)}", 1),
    py.BoolOp: _render_op,
    py.UnaryOp: _render_op,
    py.BinOp: _render_op,
    py.Compare: _render_compare,
}


def _stmt(node: py.stmt, indent: str, out: list[str]) -> None:
    inner = indent + "    "
    match node:
        case py.FunctionDef(name=name, args=args, body=body):
            out.append(f"{indent}def {name}({', '.join(a.arg for a in args.args)}):")
            for s in body:
                _stmt(s, inner, out)
        case py.Assign(targets=[target], value=value):
            out.append(f"{indent}{_expr(target)} = {_expr(value)}")
        case py.AugAssign(target=target, op=op, value=value):
            out.append(f"{indent}{_expr(target)} {_OPS[type(op)]}= {_expr(value)}")
        case py.Return(value=value):
            out.append(f"{indent}return {_expr(value) if value is not None else ''}".rstrip())
        case py.If(test=test, body=body, orelse=orelse):
            out.append(f"{indent}if {_expr(test)}:")
            for s in body:
                _stmt(s, inner, out)
            while len(orelse) == 1 and isinstance(orelse[0], py.If):
                out.append(f"{indent}elif {_expr(orelse[0].test)}:")
                for s in orelse[0].body:
                    _stmt(s, inner, out)
                orelse = orelse[0].orelse
            if orelse:
                out.append(f"{indent}else:")
                for s in orelse:
                    _stmt(s, inner, out)
        case py.For(target=target, iter=items, body=body):
            out.append(f"{indent}for {_expr(target)} in {_expr(items)}:")
            for s in body:
                _stmt(s, inner, out)
        case _:
            raise TypeError(f"not generated here: {type(node).__name__}")


def python_source(module: py.Module) -> str:
    """The Python text of a generated module (what `ast.unparse` would print)."""
    out: list[str] = []
    for i, node in enumerate(module.body):
        if i:
            out.append("")
        _stmt(node, "", out)
    return "\n".join(out)
