"""Declared context attributes (LANGUAGE.md 3.2, 13.3), typed and defaulted per request.

The engine validates the built-in fields once per request (engine/context.py) and keeps
declared attributes as raw JSON, because each ruleset declares its own. `make_binder`
turns one ruleset's declarations into its `bind`: the `Bound` tuples the generated code
indexes. Values take their runtime form: money as integer minor units, decimals as exact
`Decimal`s, date-times as unix seconds, durations as seconds, lists as tuples.

`bind` runs on every request for every ruleset, so a value that is already in its runtime
form (a string, an int, a bool, the most common attributes) costs one `type(...) is`
test, and the field path of an error is only built when there is an error.

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

Convert = Callable[[Any], Any]
"""Raw JSON value -> runtime value; raises `Invalid`."""
RootReader = Callable[[JSONDict], tuple[Any, ...]]
"""A root's raw `attributes` object -> its values in declaration order; raises `Invalid`."""

_MISSING = object()
_new = object.__new__
if frozenset(Bound.__slots__) != {"user", "cart", "items"}:
    raise ImportError("dsl/attributes.py: bind_user must write every Bound slot")
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

_AS_IS: dict[str, type] = {"bool": bool, "int": int, "string": str, "duration": int}
"""Types whose JSON value of exactly this Python type is already the runtime value."""


class _Never:
    """The "runtime form" of the other types: no JSON value has this type."""


class Invalid(Exception):
    """A wrong attribute value. `field` is the path below the root's `attributes` object
    (`orders`, `tags[1]`), so that the caller adds the prefix only when there is an error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_int(value: Any) -> bool:
    # A JSON boolean is never an integer (LANGUAGE.md 4).
    return isinstance(value, int) and not isinstance(value, bool)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("", "must be true or false")
    return value


def _int(value: Any) -> int:
    if not _is_int(value):
        raise Invalid("", "must be an integer")
    return int(value)


def _decimal(value: Any) -> Decimal:
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    raise Invalid("", "must be a decimal number written as a string or an integer")


@lru_cache(maxsize=8)
def _money_pattern(minor_units: int) -> re.Pattern[str]:
    fraction = rf"(\.[0-9]{{1,{minor_units}}})?" if minor_units else ""
    return re.compile(rf"(0|[1-9][0-9]*){fraction}")


def money_converter(minor_units: int) -> Convert:
    """Money in JSON (LANGUAGE.md 4) to integer minor units."""
    pattern = _money_pattern(minor_units)
    unit: int = 10**minor_units

    def convert(value: Any) -> int:
        if _is_int(value) and value >= 0:
            return int(value) * unit
        if isinstance(value, str) and pattern.fullmatch(value):
            whole, _, fraction = value.partition(".")
            return int(whole) * unit + int(fraction.ljust(minor_units, "0") or "0")
        raise Invalid("", f"must be a money amount with at most {minor_units} decimal places")

    return convert


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("", "must be a string")
    return value


def _datetime(value: Any) -> int:
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            pass
    raise Invalid("", "must be an ISO 8601 date-time with a UTC offset")


def _duration(value: Any) -> int:
    if not _is_int(value):
        raise Invalid("", "must be a whole number of seconds")
    return int(value)


def _list_of(element: Convert) -> Convert:
    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise Invalid("", "must be a list")
        converted = []
        for i, v in enumerate(value):
            try:
                converted.append(element(v))
            except Invalid as bad:
                raise Invalid(f"[{i}]{bad.field}", bad.message) from None
        return tuple(converted)

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


def _settler(decl: AttributeDecl, minor_units: int) -> Convert:
    """What a value that is not already in its runtime form becomes: the default when
    absent (`_MISSING`), else the converted value; raises `Invalid` naming the attribute."""
    convert = converter(decl.type, minor_units)
    default = decl.default if decl.default is not None else ZEROS.get(decl.type, _MISSING)
    name = decl.name

    def settle(value: Any) -> Any:
        if value is _MISSING:
            if default is _MISSING:
                raise Invalid(name, "is required")
            return default
        try:
            return convert(value)
        except Invalid as bad:
            raise Invalid(name + bad.field, bad.message) from None

    return settle


def value_reader(decl: AttributeDecl, minor_units: int) -> Callable[[JSONDict, str], Any]:
    """Reads one attribute from a root's raw `attributes` object, with its default.
    `prefix` is the field path of that object, e.g. `user.attributes`."""
    settle = _settler(decl, minor_units)
    name = decl.name

    def read(raw: JSONDict, prefix: str) -> Any:
        try:
            return settle(raw.get(name, _MISSING))
        except Invalid as bad:
            raise ContextError(f"{prefix}.{bad.field}", bad.message) from None

    return read


def _root_reader(decls: Sequence[AttributeDecl], minor_units: int) -> RootReader:
    # (name, the type a value already in runtime form has, how to settle any other value);
    # `_Never` matches no value: every value of the other types is settled (JSON null
    # included, a wrong value that the settler refuses).
    fields = tuple((d.name, _AS_IS.get(d.type, _Never), _settler(d, minor_units)) for d in decls)
    if len(fields) == 1:
        ((name, as_is, settle),) = fields

        def read_one(raw: JSONDict) -> tuple[Any, ...]:
            if type(raw) is not dict:
                raise Invalid("", "must be an object")
            value = raw.get(name, _MISSING)
            return (value,) if type(value) is as_is else (settle(value),)

        return read_one

    def read(raw: JSONDict) -> tuple[Any, ...]:
        if type(raw) is not dict:
            raise Invalid("", "must be an object")
        values = []
        for name, as_is, settle in fields:
            value = raw.get(name, _MISSING)
            values.append(value if type(value) is as_is else settle(value))
        return tuple(values)

    return read


def _path(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if field else prefix


def make_binder(attributes: Sequence[AttributeDecl], minor_units: int) -> Binder:
    """The `bind` of a ruleset with these declarations, in declaration order per root."""
    if not attributes:
        return _bind_nothing
    user_decls = [a for a in attributes if a.root == "user"]
    cart_decls = [a for a in attributes if a.root == "cart"]
    item_decls = [a for a in attributes if a.root == "item"]
    user = _root_reader(user_decls, minor_units) if user_decls else None
    cart = _root_reader(cart_decls, minor_units) if cart_decls else None
    item = _root_reader(item_decls, minor_units) if item_decls else None
    if user is not None and cart is None and item is None:
        return _user_binder(user, user_decls)

    def bind(ctx: Context) -> Bound:
        # One root at a time, so that an error names the root it is in.
        try:
            user_values = user(ctx.user_attributes) if user is not None else ()
        except Invalid as bad:
            raise ContextError(_path("user.attributes", bad.field), bad.message) from None
        try:
            cart_values = cart(ctx.cart_attributes) if cart is not None else ()
        except Invalid as bad:
            raise ContextError(_path("cart.attributes", bad.field), bad.message) from None
        lines: list[tuple[Any, ...]] = []
        if item is not None:
            try:
                for line in ctx.items:
                    lines.append(item(line.attributes))  # noqa: PERF401 (len(lines) names the bad line)
            except Invalid as bad:
                prefix = f"cart.items[{len(lines)}].attributes"
                raise ContextError(_path(prefix, bad.field), bad.message) from None
        return Bound(user_values, cart_values, tuple(lines))

    return bind


def _user_binder(user: RootReader, decls: Sequence[AttributeDecl]) -> Binder:
    """`bind` when only user attributes are declared, the usual case: one root to read."""

    def bind_user(ctx: Context) -> Bound:
        try:
            values = user(ctx.user_attributes)
        except Invalid as bad:
            raise ContextError(_path("user.attributes", bad.field), bad.message) from None
        bound = _new(Bound)  # every slot written here: `Bound.__init__` would cost a call
        bound.user = values
        bound.cart = bound.items = ()
        return bound

    if len(decls) != 1:
        return bind_user
    (decl,) = decls
    name, as_is = decl.name, _AS_IS.get(decl.type, _Never)

    def bind_one(ctx: Context) -> Bound:
        # One attribute already in its runtime form: read here, without `user`'s call.
        raw = ctx.user_attributes
        if type(raw) is dict:
            value = raw.get(name, _MISSING)
            if type(value) is as_is:
                bound = _new(Bound)
                bound.user = (value,)
                bound.cart = bound.items = ()
                return bound
        return bind_user(ctx)  # a default, a conversion or an error

    return bind_one


def bind(attributes: Sequence[AttributeDecl], minor_units: int, ctx: Context) -> Bound:
    """Typed, defaulted attributes of `ctx`; raises ContextError naming the field path."""
    return make_binder(attributes, minor_units)(ctx)


def _bind_nothing(ctx: Context) -> Bound:
    return NO_ATTRIBUTES
