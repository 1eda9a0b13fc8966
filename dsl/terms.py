"""Coupon terms frozen at issue (LANGUAGE.md 7.2, 10.9).

A coupon keeps the terms it was issued with, whatever later versions of its ruleset say.
`freeze` writes them as canonical JSON: the benefit, `cap`, `min spend`, the item filter's
canonical text with the declared item attributes it reads, and the currency, minor units
and timezone the numbers and date literals are in. Validity is not part of the terms: it
is per coupon (6.4). `thaw` compiles that text back into `model.Terms`; the filter reads
the item attributes from the request's raw JSON with the declarations frozen with it, so
it does not depend on any loaded ruleset.

>>> terms_id, text = freeze(spec, ruleset)  # doctest: +SKIP
>>> thaw(text) == spec.terms  # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from dsl import ast as A
from dsl import model as M
from dsl.attributes import value_reader
from dsl.codegen import AttrSlot, Env, Generator
from dsl.localtime import zone
from dsl.parser import parse_ruleset

# A path `item.NAME` outside string literals of a canonical filter text.
_ITEM_PATH = re.compile(r'"(?:[^"\\]|\\.)*"|\bitem\.([A-Za-z_][A-Za-z0-9_]*)')


def freeze(spec: M.CouponSpec, ruleset: M.CompiledRuleset) -> tuple[str, str]:
    """(terms_id, canonical JSON) of a coupon's terms; equal terms, equal text and id."""
    return _freeze(spec.terms, ruleset)


@lru_cache(maxsize=4096)
def _freeze(terms: M.Terms, ruleset: M.CompiledRuleset) -> tuple[str, str]:
    text = terms.filter.text if terms.filter else None
    doc = {
        "benefit": _benefit_json(terms.benefit),
        "cap": terms.cap,
        "min_spend": terms.min_spend,
        "filter": text,
        "attributes": [_decl_json(d) for d in _read_attributes(text, ruleset)],
        "currency": ruleset.currency,
        "minor_units": ruleset.minor_units,
        "timezone": ruleset.timezone,
    }
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16], canonical


@lru_cache(maxsize=4096)
def thaw(text: str) -> M.Terms:
    """The terms of `freeze`'s JSON, with a compiled filter shared by equal filters."""
    doc = json.loads(text)
    item_filter = None
    if doc["filter"] is not None:
        attrs = json.dumps(doc["attributes"], sort_keys=True)
        item_filter = _filter(doc["filter"], attrs, doc["minor_units"], doc["timezone"])
    return M.Terms(_benefit(doc["benefit"]), doc["cap"], doc["min_spend"], item_filter)


def _read_attributes(text: str | None, ruleset: M.CompiledRuleset) -> list[M.AttributeDecl]:
    if text is None:
        return []
    names = {m.group(1) for m in _ITEM_PATH.finditer(text) if m.group(1)}
    return [a for a in ruleset.attributes if a.root == "item" and a.name in names]


def _decl_json(decl: M.AttributeDecl) -> dict[str, Any]:
    default = decl.default
    if isinstance(default, Decimal):
        default = str(default)
    elif isinstance(default, tuple):
        default = list(default)
    return {"name": decl.name, "type": decl.type, "default": default}


def _decl(doc: dict[str, Any]) -> M.AttributeDecl:
    default = doc["default"]
    if doc["type"] == "decimal" and default is not None:
        default = Decimal(default)
    elif isinstance(default, list):
        default = tuple(default)
    return M.AttributeDecl("item", doc["name"], doc["type"], default)


def _benefit_json(benefit: M.Benefit) -> dict[str, Any]:
    if isinstance(benefit, M.ValueOff):
        return {"kind": "value_off", "amount": benefit.amount}
    if isinstance(benefit, M.PercentOff):
        return {"kind": "percent_off", "percent": str(benefit.percent)}
    if isinstance(benefit, M.FreeShipping):
        return {"kind": "free_shipping"}
    raise TypeError(f"a coupon has no {type(benefit).__name__} benefit")


def _benefit(doc: dict[str, Any]) -> M.Benefit:
    kind = doc["kind"]
    if kind == "value_off":
        return M.ValueOff(doc["amount"])
    if kind == "percent_off":
        return M.PercentOff(Fraction(doc["percent"]))
    return M.FreeShipping()


@lru_cache(maxsize=1024)
def _filter(text: str, attrs_json: str, minor_units: int, timezone: str) -> M.ItemFilter:
    decls = [_decl(d) for d in json.loads(attrs_json)]
    slots = {f"item.{d.name}": AttrSlot("item", i, d.type) for i, d in enumerate(decls)}
    readers = {f"item.{d.name}": _reader(d, minor_units) for d in decls}
    env = Env(zone(timezone), minor_units, slots, {}, readers)
    generator = Generator(env, "<promo terms>")
    generator.add_filter("filter_0", _parse_filter(text, decls))
    namespace, _ = generator.build()
    digest = hashlib.sha256(f"{attrs_json}|{minor_units}|{timezone}|{text}".encode())
    return M.ItemFilter(f"terms:{digest.hexdigest()[:16]}", text, True, namespace["filter_0"])


def _reader(decl: M.AttributeDecl, minor_units: int) -> Callable[[Any], Any]:
    read = value_reader(decl, minor_units)

    def item_attribute(item: Any) -> Any:
        return read(item.attributes, f"cart.items[{item.index}].attributes")

    return item_attribute


def _parse_filter(text: str, decls: list[M.AttributeDecl]) -> A.Expr:
    """The filter's syntax tree, parsed inside a minimal rule file that declares the item
    attributes it reads (the parser reads whole files)."""
    context = "".join(f"item.{d.name}: {d.type}\n" for d in decls)
    rules = (
        f'ruleset "terms"\ntimezone "UTC"\ncurrency CNY\ncontext {{\n{context}}}\n'
        f"campaign terms {{\nwindow 2000-01-01 .. 2000-01-01\n"
        f"discount {{ value 1 off\non items where {text}\n}}\n}}\n"
    )
    tree = parse_ruleset(rules, "<coupon terms>")
    on = tree.campaigns[0].items[1]
    assert isinstance(on, A.DiscountBlock) and isinstance(on.items[1], A.OnItems)
    return on.items[1].expr
