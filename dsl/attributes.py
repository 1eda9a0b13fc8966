"""Declared context attributes (LANGUAGE.md 3.2, 13.3), typed and defaulted per request.

The engine validates the built-in fields once per request (engine/context.py) and keeps
declared attributes as raw JSON, because each ruleset declares its own. `make_binder`
turns one ruleset's declarations into its `bind`: the `Bound` tuples the generated code
indexes. Values take their runtime form: money as integer minor units, decimals as exact
`Decimal`s, date-times as unix seconds, durations as seconds, lists as tuples.

>>> from dsl.model import AttributeDecl
>>> from dsl.context import Context
>>> bind = make_binder([AttributeDecl("user", "city", "string", "")], 2)
>>> ctx = Context(now=0, currency="CNY")
>>> ctx.user_attributes = {"city": "Hangzhou"}
>>> bind(ctx).user
('Hangzhou',)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from dsl.context import NO_ATTRIBUTES, Bound, Context, ContextError, JSONDict
from dsl.localtime import parse_instant
from dsl.model import AttributeDecl, Binder

Convert = Callable[[Any, str], Any]
"""(raw JSON value, field path) -> runtime value; raises ContextError."""

_MISSING = object()
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")

ZEROS: dict[str, Any] = {
    "bool": False,
    "int": 0,
    "decimal": Decimal(0),
    "money": 0,
    "string": "",
    "duration": 0,
    "list of string": (),
    "list of int": (),
}
"""The value of an attribute a request omits when it has no declared default (3.2).
`datetime` has none: such an attribute is required."""


def _is_int(value: Any) -> bool:
    # A JSON boolean is never an integer (LANGUAGE.md 4).
    return isinstance(value, int) and not isinstance(value, bool)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ContextError(path, "must be true or false")
    return value


def _int(value: Any, path: str) -> int:
    if not _is_int(value):
        raise ContextError(path, "must be an integer")
    return int(value)


def _decimal(value: Any, path: str) -> Decimal:
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    raise ContextError(path, "must be a decimal number written as a string or an integer")


@lru_cache(maxsize=8)
def _money_pattern(minor_units: int) -> re.Pattern[str]:
    fraction = rf"(\.[0-9]{{1,{minor_units}}})?" if minor_units else ""
    return re.compile(rf"(0|[1-9][0-9]*){fraction}")


def money_converter(minor_units: int) -> Convert:
    """Money in JSON (LANGUAGE.md 4) to integer minor units."""
    pattern = _money_pattern(minor_units)
    unit: int = 10**minor_units

    def convert(value: Any, path: str) -> int:
        if _is_int(value) and value >= 0:
            return int(value) * unit
        if isinstance(value, str) and pattern.fullmatch(value):
            whole, _, fraction = value.partition(".")
            return int(whole) * unit + int(fraction.ljust(minor_units, "0") or "0")
        raise ContextError(
            path, f"must be a money amount with at most {minor_units} decimal places"
        )

    return convert


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ContextError(path, "must be a string")
    return value


def _datetime(value: Any, path: str) -> int:
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            pass
    raise ContextError(path, "must be an ISO 8601 date-time with a UTC offset")


def _duration(value: Any, path: str) -> int:
    if not _is_int(value):
        raise ContextError(path, "must be a whole number of seconds")
    return int(value)


def _list_of(element: Convert) -> Convert:
    def convert(value: Any, path: str) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise ContextError(path, "must be a list")
        return tuple(element(v, f"{path}[{i}]") for i, v in enumerate(value))

    return convert


def converter(type_name: str, minor_units: int) -> Convert:
    """The converter for a declared type (LANGUAGE.md 13.3)."""
    simple: dict[str, Convert] = {
        "bool": _bool,
        "int": _int,
        "decimal": _decimal,
        "string": _string,
        "datetime": _datetime,
        "duration": _duration,
        "list of string": _list_of(_string),
        "list of int": _list_of(_int),
    }
    return money_converter(minor_units) if type_name == "money" else simple[type_name]


def value_reader(decl: AttributeDecl, minor_units: int) -> Callable[[JSONDict, str], Any]:
    """Reads one attribute from a root's raw `attributes` object, with its default.
    `prefix` is the field path of that object, e.g. `user.attributes`."""
    convert = converter(decl.type, minor_units)
    default = decl.default if decl.default is not None else ZEROS.get(decl.type, _MISSING)
    name = decl.name

    def read(raw: JSONDict, prefix: str) -> Any:
        value = raw.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ContextError(f"{prefix}.{name}", "is required")
            return default
        return convert(value, f"{prefix}.{name}")

    return read


def _root_reader(
    decls: Sequence[AttributeDecl], minor_units: int
) -> Callable[[Any, str], tuple[Any, ...]]:
    readers = [value_reader(d, minor_units) for d in decls]

    def read(raw: Any, prefix: str) -> tuple[Any, ...]:
        if not isinstance(raw, dict):
            raise ContextError(prefix, "must be an object")
        return tuple(r(raw, prefix) for r in readers)

    return read


def make_binder(attributes: Sequence[AttributeDecl], minor_units: int) -> Binder:
    """The `bind` of a ruleset with these declarations, in declaration order per root."""
    if not attributes:
        return _bind_nothing
    user = _root_reader([a for a in attributes if a.root == "user"], minor_units)
    cart = _root_reader([a for a in attributes if a.root == "cart"], minor_units)
    item_decls = [a for a in attributes if a.root == "item"]
    item = _root_reader(item_decls, minor_units)

    def bind(ctx: Context) -> Bound:
        items = (
            tuple(
                item(line.attributes, f"cart.items[{line.index}].attributes") for line in ctx.items
            )
            if item_decls
            else ()
        )
        return Bound(
            user(ctx.user_attributes, "user.attributes"),
            cart(ctx.cart_attributes, "cart.attributes"),
            items,
        )

    return bind


def bind(attributes: Sequence[AttributeDecl], minor_units: int, ctx: Context) -> Bound:
    """Typed, defaulted attributes of `ctx`; raises ContextError naming the field path."""
    return make_binder(attributes, minor_units)(ctx)


def _bind_nothing(ctx: Context) -> Bound:
    return NO_ATTRIBUTES
