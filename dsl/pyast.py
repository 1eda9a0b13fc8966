"""Builders of Python `ast` nodes, the only way generated code is made (`dsl/codegen.py`).

Small and shared so that every node is built the same way: with its position set once
when built, and with the one `Load` / `Store` context `ast.parse` would share.
"""

from __future__ import annotations

import ast as py
from typing import Any

POS: dict[str, Any] = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}
LOAD, STORE = py.Load(), py.Store()  # shared, as `ast.parse` shares them
"""Every generated node sits on line 1: set when built, cheaper than fixing them after."""


def name(ident: str) -> py.Name:
    return py.Name(ident, LOAD, **POS)


def store(ident: str) -> py.Name:
    return py.Name(ident, STORE, **POS)


def const(value: Any) -> py.Constant:
    return py.Constant(value, **POS)


def call(func: str, *args: py.expr) -> py.Call:
    return py.Call(name(func), list(args), [], **POS)


def assign(ident: str, value: py.expr) -> py.Assign:
    return py.Assign([store(ident)], value, **POS)


def if_(test: py.expr, *body: py.stmt) -> py.If:
    return py.If(test, list(body), [], **POS)


def for_(items: py.expr, body: list[py.stmt]) -> py.For:
    """`for it in items:`: generated loops run over cart lines, each one `it`."""
    return py.For(store("it"), items, body, [], None, **POS)
