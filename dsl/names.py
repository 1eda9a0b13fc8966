"""What a path or a bare name in an expression refers to (LANGUAGE.md 4, 3.2, 5.4, 5.5).

A bare name is a root without sub-fields (`channel`, `now`) or a segment declared above;
a dotted path is a built-in field or a declared attribute. `item.…` exists only where an
item is bound, and a coupon's item filter reads nothing but `item.…` fields and literals.
Each function reports at most one error and returns None for a reference in error, so the
expression around it is not checked further.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dsl.ast import Path, RuntimeList
from dsl.report import Report
from dsl.suggest import did_you_mean
from dsl.vocabulary import ATTRIBUTE_TYPES, BARE_ROOTS, BUILTIN_FIELDS, ExprType

ITEM_ONLY = "'item' is only available in 'on items where', any, all, count and sum"
COUPON_FILTER = "a coupon's item filter can read only item fields"

ROOTS_WITH_FIELDS = ("user", "cart", "device", "referral", "item")
"""Roots that are written with a field, never bare (LANGUAGE.md 5.4)."""

EXAMPLE_FIELD = {
    "user": "user.level",
    "cart": "cart.total",
    "device": "device.id",
    "referral": "referral.event",
    "item": "item.price",
}


class FieldTable:
    """Path -> expression type. A declared attribute whose type is unknown maps to None:
    it exists (so its uses are not reported again) but has no type to check against."""

    def __init__(self) -> None:
        self._types: dict[str, ExprType | None] = {
            path: ATTRIBUTE_TYPES[declared] for path, declared in BUILTIN_FIELDS.items()
        }

    def declare(self, path: str, declared_type: str | None) -> None:
        self._types[path] = ATTRIBUTE_TYPES.get(declared_type) if declared_type else None

    def __contains__(self, path: str) -> bool:
        return path in self._types

    def type_of(self, path: str) -> ExprType | None:
        return self._types.get(path)

    def paths(self, *, items: bool, only_items: bool = False) -> list[str]:
        """Every path valid at a place: `item.…` only where an item is bound, and nothing
        else in a coupon's item filter."""
        return [
            path
            for path in self._types
            if (items or not path.startswith("item."))
            and (not only_items or path.startswith("item."))
        ]

    def fields_of(self, root: str) -> list[str]:
        return [path for path in self._types if path.startswith(root + ".")]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an expression is: which segments it may use and whether `item` is bound.

    `clause` names the clause for messages (`when`, `segment 'big'`); `declared` maps
    every segment of the file to its line, so that a use above a segment's declaration
    can say where it is."""

    clause: str
    segments: Mapping[str, int]
    declared: Mapping[str, int] = field(default_factory=dict)
    item: bool = False
    coupon_filter: bool = False
    in_segment: bool = False


class Resolver:
    """Resolves paths against the file's fields and records which segments are used."""

    def __init__(self, report: Report, fields: FieldTable) -> None:
        self.report = report
        self.fields = fields
        self.used_segments: set[str] = set()

    def path(self, path: Path, scope: Scope) -> ExprType | None:
        if len(path.parts) == 1:
            return self._bare(path, scope)
        if path.parts[0] == "item":
            if not scope.item:
                self.report.error(ITEM_ONLY + self._item_hint(scope), path.span)
                return None
        elif scope.coupon_filter:
            self.report.error(f"{COUPON_FILTER} and literals, not '{path.text}'", path.span)
            return None
        return self._field(path, scope)

    def runtime_list(self, node: RuntimeList, scope: Scope) -> ExprType | None:
        """A `list "NAME"` on the right of `in` / `not in`, the one place it may be."""
        if scope.coupon_filter:
            self.report.error(
                f'{COUPON_FILTER} and literals, not list "{node.name.value}"', node.span
            )
            return None
        return "list of string"

    def _field(self, path: Path, scope: Scope) -> ExprType | None:
        text = path.text
        if text in self.fields:
            # None here is a declared attribute of unknown type: already reported.
            return self.fields.type_of(text)
        candidates = self.fields.paths(items=scope.item, only_items=scope.coupon_filter)
        hint = did_you_mean(text, candidates)
        if text == "cart.items":
            hint += "; the items are reached through any, all, count and sum"
        self.report.error(f"unknown field '{text}'{hint}", path.span)
        return None

    def _bare(self, path: Path, scope: Scope) -> ExprType | None:
        name = path.parts[0]
        if name in BARE_ROOTS:
            if scope.coupon_filter:
                self.report.error(f"{COUPON_FILTER} and literals, not '{name}'", path.span)
                return None
            return self.fields.type_of(name)
        if name in ROOTS_WITH_FIELDS:
            self._root_needs_field(path, name)
            return None
        if name in scope.segments:
            self.used_segments.add(name)
            if scope.coupon_filter:
                self.report.error(f"{COUPON_FILTER} and literals, not segment '{name}'", path.span)
                return None
            return "bool"
        self._unknown_name(path, name, scope)
        return None

    def _root_needs_field(self, path: Path, name: str) -> None:
        fields = ", ".join(self.fields.fields_of(name))
        self.report.error(
            f"'{name}' needs a field, e.g. '{EXAMPLE_FIELD[name]}' (its fields: {fields})",
            path.span,
        )

    def _unknown_name(self, path: Path, name: str, scope: Scope) -> None:
        hint = did_you_mean(name, [*scope.segments, *BARE_ROOTS])
        if name in scope.declared:
            hint += (
                f"; segment '{name}' is declared at line {scope.declared[name]}, "
                "and a segment can be used only below its declaration"
            )
        self.report.error(f"unknown name '{name}'{hint}", path.span)

    @staticmethod
    def _item_hint(scope: Scope) -> str:
        if scope.in_segment:
            return "; a segment is evaluated once per request, not once per cart line"
        return "; to test the cart's lines, use any(items where …)"
