"""The header and the `context` block (LANGUAGE.md 3.1, 3.2): ruleset id, timezone,
currency, and the declared attributes with their types and defaults."""

from __future__ import annotations

import re
import zoneinfo

from dsl import ast
from dsl.declarations import Registry, check_reserved
from dsl.localtime import zone
from dsl.names import FieldTable
from dsl.report import UTC, Report, Settings
from dsl.suggest import did_you_mean, unknown_word
from dsl.values import check_datetime, check_decimals
from dsl.vocabulary import (
    ATTRIBUTE_TYPES,
    BUILTIN_FIELDS,
    CURRENCIES,
    DECLARABLE_ROOTS,
    LIST_ELEMENT_TYPES,
)

RULESET_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_LITERAL_TYPES: dict[type, str] = {
    ast.NumberLit: "number",
    ast.StringLit: "string",
    ast.BoolLit: "bool",
    ast.DurationLit: "duration",
    ast.DateTimeLit: "datetime",
    ast.DefaultList: "list",
}
_SCALAR_LITERALS: dict[str, type] = {
    "bool": ast.BoolLit,
    "int": ast.NumberLit,
    "decimal": ast.NumberLit,
    "money": ast.NumberLit,
    "string": ast.StringLit,
    "datetime": ast.DateTimeLit,
    "duration": ast.DurationLit,
}


def check_header(header: ast.Header, report: Report) -> Settings:
    """Check the header; the settings hold what later checks need from it."""
    ruleset_id = header.ruleset_id
    if not RULESET_ID.fullmatch(ruleset_id.value):
        report.error(
            f"invalid ruleset id '{ruleset_id.value}': use 1 to 64 characters "
            "from A-Z, a-z, 0-9, '.', '_' and '-'",
            ruleset_id.span,
        )
    tz = UTC
    try:
        tz = zone(header.timezone.value)
    except (KeyError, OSError, ValueError):
        name = header.timezone.value
        hint = did_you_mean(name, sorted(zoneinfo.available_timezones()))
        report.error(f"unknown timezone '{name}'{hint}", header.timezone.span)
    code = header.currency.text
    if code not in CURRENCIES:
        report.error(unknown_word("currency", code, list(CURRENCIES)), header.currency.span)
        return Settings(tz=tz)
    return Settings(currency=code, minor_units=CURRENCIES[code], tz=tz)


def check_context(block: ast.ContextBlock | None, settings: Settings, report: Report) -> FieldTable:
    """The fields the file can read: built-in ones plus the declared attributes."""
    fields = FieldTable()
    declared = Registry("attribute", report)
    for attr in block.attrs if block is not None else ():
        path = f"{attr.root.text}.{attr.name.text}"
        if not _check_root(attr, report):
            if path not in fields:  # it exists, so its uses are not reported again
                fields.declare(path, None)
            continue
        if path in BUILTIN_FIELDS:
            report.error(f"'{path}' is a built-in field", attr.name.span)
            continue
        check_reserved(attr.name, report, kind="attribute")
        if not declared.add(attr.name, path):
            continue
        type_key = _check_type(attr.type, report)
        fields.declare(path, type_key)
        if type_key is not None:
            _check_default(attr, path, type_key, settings, report)
    return fields


def _check_root(attr: ast.AttrDecl, report: Report) -> bool:
    if attr.root.text in DECLARABLE_ROOTS:
        return True
    report.error("attributes can be declared only on user, item and cart", attr.root.span)
    return False


def _check_type(ref: ast.TypeRef, report: Report) -> str | None:
    """The declared type (`int`, `list of string`), or None when it is unknown."""
    word = ref.name.text
    if ref.is_list:
        if word in LIST_ELEMENT_TYPES:
            return f"list of {word}"
        report.error(unknown_word("type", word, LIST_ELEMENT_TYPES), ref.name.span)
        return None
    if word in ATTRIBUTE_TYPES and not word.startswith("list"):
        return word
    report.error(unknown_word("type", word, list(ATTRIBUTE_TYPES)), ref.name.span)
    return None


def _check_default(
    attr: ast.AttrDecl, path: str, type_key: str, settings: Settings, report: Report
) -> None:
    default = attr.default
    if default is None:
        return
    element = type_key.removeprefix("list of ")
    if element != type_key:  # a list type takes a list literal of its element type
        if not isinstance(default, ast.DefaultList):
            _mismatch(path, type_key, default, report)
            return
        for item in default.items:
            if not _check_scalar(item, path, element, settings, report):
                return
    elif isinstance(default, ast.DefaultList):
        _mismatch(path, type_key, default, report)
    else:
        _check_scalar(default, path, type_key, settings, report)


def _check_scalar(
    value: ast.Expr, path: str, type_key: str, settings: Settings, report: Report
) -> bool:
    if not isinstance(value, _SCALAR_LITERALS[type_key]):
        _mismatch(path, type_key, value, report)
        return False
    if isinstance(value, ast.DateTimeLit):
        return check_datetime(value.value, report)
    if isinstance(value, ast.NumberLit):
        return _check_number(value, path, type_key, settings, report)
    return True


def _check_number(
    value: ast.NumberLit, path: str, type_key: str, settings: Settings, report: Report
) -> bool:
    if type_key == "int" and "." in value.text:
        _mismatch(path, type_key, value, report, found="a decimal number")
        return False
    if type_key == "money":
        if value.value < 0:
            _mismatch(path, type_key, value, report, found="a negative amount")
            return False
        return check_decimals(value.value, value.text, value.span, report, settings)
    return True


def _mismatch(
    path: str,
    type_key: str,
    value: ast.Expr | ast.DefaultList,
    report: Report,
    found: str | None = None,
) -> None:
    found = found or _LITERAL_TYPES.get(type(value), "an expression")
    report.error(
        f"type mismatch: default of '{path}' must be {type_key}, found {found}", value.span
    )
