"""Rule conditions as Python code, built with the `ast` module and never from text.

One module per ruleset, compiled once and run with no builtins:

- `check_all(ctx, bound, lists)`: every campaign's OK / NOT_ELIGIBLE / DENIED in file
  order, in one function like the benchmark's fused ceiling: each segment and per-cart
  aggregate computed at most once, short-circuits kept. Context fields are read where
  used (a slot read costs what a local does); only loops over the items hoist them.
- `check_<i>(ctx, bound, lists)`: campaign `i` alone, for the claim path.
- `filter_<i>(item, ctx, bound, lists)`: an `on items where` condition.
- `agg_<i>(ctx, bound, lists, *deps)`: an aggregate that only some paths need.

A shared value (a segment or an aggregate) that a function needs on every path is
computed once at its top, the aggregates fused into one loop over the items; one that is
needed only behind a short-circuit is computed at its first use with
`(s if s is not None else (s := ...))`.

Numbers are exact without floats: a number is a Python int holding the value times
10**scale (int fields scale 0, money the currency's minor units, literals their
decimals); `+`/`-` align scales, `*` adds them, and comparisons with constants are folded
at the operand's scale (`money >= 85.495` with 2 minor units is `>= 8550`). `decimal`
attributes are `Decimal`s computed in a context that never rounds.

This module decides what goes where; the typed values and their arithmetic are in
`codegen_values.py`, the `ast` node builders in `pyast.py`, and the source text of the
generated module in `pysource.py`.
"""

from __future__ import annotations

import ast as py
import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any
from zoneinfo import ZoneInfo

from dsl import ast as A
from dsl.codegen_values import (
    FALSE,
    TRUE,
    Val,
    at,
    compare,
    effects,
    fold,
    logic,
    min_scale,
    negate,
    node,
    scale,
)
from dsl.codegen_values import Key as Key  # re-exported: dsl.compiler imports it from here
from dsl.context import EMPTY_LIST
from dsl.localtime import instant
from dsl.pyast import LOAD, POS, STORE, assign, call, const, for_, if_, name, store
from dsl.pysource import python_source as python_source  # dsl.compiler imports it from here
from dsl.vocabulary import BUILTIN_FIELDS

PARAMS = ("ctx", "bound", "lists")
OK, NOT_ELIGIBLE, DENIED = 0, 1, 2  # dsl.model's outcomes

EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
"""Never rounds: sums and products of exact decimals stay exact."""


def _dscale(value: int, scale: int) -> Decimal:
    return EXACT.scaleb(Decimal(value), -scale)


def _num_in(value: int, unit: int, members: Sequence[int]) -> bool:
    whole, rest = divmod(value, unit)
    return rest == 0 and whole in members


HELPERS: dict[str, object] = {
    "EMPTY": EMPTY_LIST,
    "dadd": EXACT.add,
    "dsub": EXACT.subtract,
    "dmul": EXACT.multiply,
    "dneg": EXACT.minus,
    "dscale": _dscale,
    "num_in": _num_in,
}
"""The only globals generated code sees besides its own functions and constants."""

CTX_ATTRS: dict[str, str] = {
    "user.id": "user_id", "user.level": "level", "user.tags": "user_tags",
    "user.is_new": "is_new", "user.phone_verified": "phone_verified",
    "user.risk_score": "risk_score", "user.registered_at": "registered_at",
    "user.account_age": "account_age", "cart.total": "total", "cart.shipping": "shipping",
    "cart.currency": "currency", "channel": "channel", "region": "region",
    "device.id": "device_id", "ip": "ip", "now": "now", "referral.event": "referral_event",
    "referral.inviter": "referral_inviter", "referral.invitee": "referral_invitee",
    "referral.invitee_device": "referral_invitee_device",
}  # fmt: skip
ITEM_ATTRS: dict[str, str] = {
    "item.sku": "sku", "item.category": "category", "item.shop": "shop",
    "item.price": "price", "item.qty": "qty", "item.tags": "tags",
}  # fmt: skip
_KINDS = {
    "bool": "bool", "int": "num", "decimal": "dec", "money": "num", "string": "str",
    "datetime": "time", "duration": "dur", "list of string": "strs", "list of int": "nums",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AttrSlot:
    """A declared attribute: its root, its index in that root's `Bound` tuple, its type."""

    root: str
    index: int
    type: str


@dataclass(frozen=True, slots=True)
class Env:
    """What expressions resolve against. `item_readers` (path -> function of an Item) is
    set for coupon terms thawed from text, which read raw item attributes instead of the
    issuing ruleset's `Bound`."""

    tz: ZoneInfo
    minor_units: int
    attrs: Mapping[str, AttrSlot]
    segments: Mapping[str, tuple[int, A.Expr]]
    item_readers: Mapping[str, Callable[[Any], Any]] | None = None

    def kind(self, type_name: str) -> tuple[str, int]:
        kind = _KINDS[type_name]
        return kind, (self.minor_units if type_name == "money" else 0)


_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_FOLD: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip
_ARITH: dict[str, type[py.operator]] = {"+": py.Add, "-": py.Sub, "*": py.Mult}


def expr_key(e: A.Expr, path: Callable[[A.Path], Key] | None = None) -> Key:
    """The structure of an expression without spans or parentheses: equal keys, equal
    meaning. `path` may replace how paths are keyed (fingerprints expand segments)."""

    def key(x: A.Expr | None) -> Key:
        match x:
            case None:
                return ()
            case A.Paren(inner=inner):
                return key(inner)
            case A.NumberLit(value=value):
                return ("num", value.normalize())  # 1.50 and 1.5 are one number
            case A.StringLit(value=value) | A.BoolLit(value=value):
                return ("lit", value)
            case A.DurationLit(seconds=seconds):
                return ("dur", seconds)
            case A.DateTimeLit(value=v):
                return ("time", v.date.text, v.time.seconds if v.time else 0)
            case A.Path():
                return path(x) if path else ("path", x.parts)
            case A.ListLit(items=items):
                return ("list", *(key(i) for i in items))
            case A.RuntimeList(name=name):
                return ("runtime list", name.value)
            case A.Not(operand=o) | A.Neg(operand=o):
                return (type(x).__name__, key(o))
            case A.Logic() | A.Arith() | A.Compare():
                return (x.op, key(x.left), key(x.right))
            case A.AnyItems(cond=c) | A.AllItems(cond=c) | A.CountItems(cond=c):
                return (type(x).__name__, key(c))
            case A.SumItems(value=value, cond=c):
                return ("sum", key(value), key(c))
        raise TypeError(type(x).__name__)

    return key(e)


AGGREGATES = (A.AnyItems, A.AllItems, A.CountItems, A.SumItems)


def children(e: A.Expr) -> tuple[A.Expr, ...]:
    match e:
        case A.Paren(inner=x) | A.Not(operand=x) | A.Neg(operand=x):
            return (x,)
        case A.Logic() | A.Arith() | A.Compare():
            return (e.left, e.right)
        case A.ListLit(items=items):
            return items
        case A.AnyItems(cond=c) | A.AllItems(cond=c):
            return (c,)
        case A.CountItems(cond=c):
            return (c,) if c is not None else ()
        case A.SumItems(value=v, cond=c):
            return (v, c) if c is not None else (v,)
    return ()


@dataclass(slots=True)
class AggPlan:
    """One aggregate as a loop: a line matches `cond` (None: every line) and adds `inc`."""

    op: str  # any all count sum
    kind: str
    scale: int
    cond: Val | None
    inc: py.expr | None = None
    const: Val | None = None


@dataclass(slots=True)
class AggHelper:
    name: str
    kind: str
    scale: int
    deps: list[tuple[Key, A.Expr]]
    const: Val | None = None


# --- one generated function -----------------------------------------------------------------


class Fn:
    """The body of one generated function.

    Shared values are computed in one of three ways: eagerly at the top when every path
    needs them (`values`); inline when used once; otherwise at their first use, where
    `known` (computed on every path to this point) and `seen` (computed on some path)
    pick the cheapest form: the local, `(v := ...)`, or `(v if v is not None else ...)`.
    """

    def __init__(self, gen: Generator, params: Sequence[str], known: dict[Key, Val]) -> None:
        self.gen, self.env, self.params = gen, gen.env, tuple(params)
        self.head: dict[str, py.stmt] = {}  # locals hoisted for loops, first use first
        self.values: dict[Key, Val] = dict(known)  # computed at the top
        self.lazy: dict[Key, tuple[str, Val]] = {}  # computed at first use: local, definition
        self.body: list[py.stmt] = []
        self.uses: dict[Key, int] = {}
        self.known: frozenset[Key] = frozenset()
        self.seen: set[Key] = set()
        self.unset: set[str] = set()  # lazy locals read before they may be set: `= None`
        self.neutral = False  # compiling a definition reused at several places
        self.eager_aggregates: set[str] = set()  # locals of aggregates computed up front
        self.loops = 0
        self._locals = 0

    def local(self, prefix: str) -> str:
        self._locals += 1
        return f"{prefix}{self._locals}"

    def hoist(self, local: str, value: py.expr) -> py.expr:
        """Inside a loop, a value read per line is read once before the loop."""
        if not self.loops:
            return value
        if local not in self.head:
            self.head[local] = assign(local, value)
        return name(local)

    def field(self, attr: str) -> py.expr:
        return self.hoist("f_" + attr, py.Attribute(name("ctx"), attr, LOAD, **POS))

    def finish(self, name: str, tail: list[py.stmt]) -> py.FunctionDef:
        inits = [assign(local, const(None)) for local in sorted(self.unset)]
        args = py.arguments([], [py.arg(p, **POS) for p in self.params], None, [], [], None, [])
        body = _merge_constants([*self.head.values(), *inits, *self.body, *tail])
        return py.FunctionDef(name, args, body, [], None, None, **POS)

    # -- what every path needs, computed up front --

    def prepare(
        self, strict: Sequence[A.Expr], every: Sequence[A.Expr], guarded: bool = False
    ) -> None:
        """Compute up front what the `strict` roots always need; count the uses of shared
        values in `every` root, so that one used once is inlined rather than kept.

        With `guarded`, an aggregate behind a short-circuit is computed up front too when
        it counts only lines whose text field equals a constant that an up-front aggregate
        of the same loop tests as well (`_guard`), and reads no other shared value: the
        loop dispatches on that text once per line (`_emit_loop`), so the aggregate costs
        only on the lines it would read anyway, where waiting costs a call and a loop."""
        defined: set[Key] = set()
        for root in every:
            self._count(root, defined)
        found: dict[Key, A.Expr] = {}
        for root in strict:
            self._strict(root, found)
        if guarded:
            self._guarded(every, found)
        self._emit(found)

    def _guarded(self, every: Sequence[A.Expr], found: dict[Key, A.Expr]) -> None:
        independent = [e for e in found.values() if not self.gen.refs(e, inside=True)]
        texts = {g for e in independent if (g := _guard(e)) is not None}
        waiting: dict[tuple[str, str], dict[Key, A.Expr]] = {}
        for root in every:
            for key, ref in self.gen.refs(root):
                guard = _guard(ref)
                if (
                    guard is not None
                    and key not in found
                    and key not in self.values
                    and not self.gen.refs(ref, inside=True)
                ):
                    waiting.setdefault(guard, {})[key] = ref
        # A text no up-front aggregate tests costs one more test per line on every path:
        # worth it when it replaces at least two calls, and for a few texts only.
        ranked = sorted(waiting, key=lambda g: len(waiting[g]), reverse=True)
        for guard in ranked:
            if guard in texts or (len(waiting[guard]) >= 2 and len(texts) < _MAX_DISPATCH):
                texts.add(guard)
                found.update(waiting[guard])

    def _count(self, e: A.Expr, defined: set[Key]) -> None:
        for key, ref in self.gen.refs(e):
            self.uses[key] = self.uses.get(key, 0) + 1
            if key not in defined:  # a definition is compiled once, however often used
                defined.add(key)
                if key[0] == "seg":
                    self._count(self.env.segments[key[1]][1], defined)
                else:
                    for _, dep in self.gen.refs(ref, inside=True):
                        self._count(dep, defined)

    def _strict(self, e: A.Expr, found: dict[Key, A.Expr]) -> None:
        """Collect the shared values `e` evaluates whatever the short-circuits decide."""
        if isinstance(e, A.Logic):
            self._strict(e.left, found)
        elif isinstance(e, AGGREGATES):
            key = self.gen.key(e)
            if key not in found and key not in self.values:
                found[key] = e
                for _, dep in self.gen.refs(e, inside=True):
                    self._strict(dep, found)
        elif isinstance(e, A.Path) and e.text in self.env.segments:
            key = ("seg", e.text)
            if key not in found and key not in self.values:
                found[key] = expr = self.env.segments[e.text][1]
                self._strict(expr, found)
        else:
            for child in children(e):
                self._strict(child, found)

    def _emit(self, found: dict[Key, A.Expr]) -> None:
        """Segments as soon as what they read is ready; ready aggregates in one loop."""
        deps = {
            key: [k for k, _ in self.gen.refs(e, inside=key[0] != "seg") if k in found]
            for key, e in found.items()
        }
        pending = dict(found)
        while pending:
            ready = [k for k in pending if all(d in self.values for d in deps[k])]
            assert ready, "shared values form a cycle"
            segments = [k for k in ready if k[0] == "seg"]
            if segments:
                for key in segments:
                    self._emit_segment(key, pending.pop(key))
            else:
                self._emit_loop([(key, pending.pop(key)) for key in ready])

    def _emit_segment(self, key: Key, expr: A.Expr) -> None:
        val = self.ev(expr, None)
        if val.is_const:
            self.values[key] = val
            return
        assert val.node is not None
        local = f"s{self.env.segments[key[1]][0]}"
        self.body.append(assign(local, val.node))
        self.values[key] = Val("bool", name(local))

    def _emit_loop(self, aggs: list[tuple[Key, A.Expr]]) -> None:
        steps: list[py.stmt] = []
        # Aggregates counted only on lines whose text field equals a constant: one
        # `if`/`elif` chain on that field per line (`_dispatch`) instead of a test each.
        branches: dict[str, dict[str, list[py.stmt]]] = {}
        for key, agg in aggs:
            plan = self.plan(agg, "it")
            if plan.const is not None:
                self.values[key] = plan.const
                continue
            local = self.local("a")
            self.eager_aggregates.add(local)
            self.body.append(assign(local, self._agg_init(plan)))
            split = _split_guard(plan) if plan.op != "all" else None
            if split is None:
                steps.append(self._agg_step(plan, local))
            else:
                attr, text, rest = split
                branch = branches.setdefault(attr, {}).setdefault(text, [])
                branch.append(self._agg_step(replace(plan, cond=rest), local))
            self.values[key] = Val(plan.kind, name(local), scale=plan.scale)
        if branches:
            # One field dispatches (the one most aggregates test); the others' tests stay.
            attr = max(branches, key=lambda a: sum(len(b) for b in branches[a].values()))
            for other, texts in branches.items():
                if other != attr:
                    for text, body in texts.items():
                        steps.append(if_(_guard_test(other, text), *body))
            steps.insert(0, _dispatch(attr, branches[attr]))
            steps.insert(0, assign(f"g_{attr}", py.Attribute(name("it"), attr, LOAD, **POS)))
        if steps:
            self.body.append(for_(self.field("items"), steps))

    def _agg_init(self, plan: AggPlan) -> py.expr:
        if plan.op in ("any", "all"):
            return const(plan.op == "all")
        return self.gen.constant(Decimal(0)) if plan.kind == "dec" else const(0)

    def _agg_step(self, plan: AggPlan, local: str) -> py.stmt:
        acc = name(local)
        if plan.op == "any":
            found = assign(local, const(True))
            if plan.cond is None:
                return found
            return if_(py.UnaryOp(py.Not(), acc, **POS), if_(node(plan.cond), found))
        if plan.op == "all":
            assert plan.cond is not None
            return if_(acc, if_(node(negate(plan.cond)), assign(local, const(False))))
        assert plan.inc is not None
        if plan.kind == "dec":
            step: py.stmt = assign(local, call("dadd", acc, plan.inc))
        else:
            step = py.AugAssign(store(local), py.Add(), plan.inc, **POS)
        return step if plan.cond is None else if_(node(plan.cond), step)

    def helper_body(self, plan: AggPlan) -> list[py.stmt]:
        """A lazy aggregate's own function: it stops at the first line that decides it."""
        items = self.field("items")
        if plan.op in ("any", "all"):
            test = plan.cond or TRUE
            test = test if plan.op == "any" else negate(test)
            loop: list[py.stmt] = [if_(node(test), py.Return(const(plan.op == "any"), **POS))]
            return [for_(items, loop), py.Return(const(plan.op == "all"), **POS)]
        self.body.append(assign("acc", self._agg_init(plan)))
        return [for_(items, [self._agg_step(plan, "acc")]), py.Return(name("acc"), **POS)]

    def outcome(self, cond: Conditions) -> py.expr:
        """OK, NOT_ELIGIBLE when a `when` fails, DENIED when a `deny when` holds."""
        before = self.known
        allowed = fold("and", [self.ev(w, None) for w in cond.whens], TRUE)
        denied = fold("or", [self.ev(d, None) for d in cond.denies], FALSE)
        self.known = before | allowed.computes
        deny = _choose(denied, const(DENIED), const(OK))
        return _choose(self._aggregates_first(allowed), deny, const(NOT_ELIGIBLE))

    def _aggregates_first(self, allowed: Val) -> Val:
        """`allowed` with the tests of per-cart aggregates computed up front moved to the
        front of its `and` chain: a local read, the cheapest test, and a cart condition
        decides most carts. Only tests that read nothing but such locals, fields and
        constants move (they compute nothing and depend on nothing computed in the chain),
        and never in front of a first test that computes a shared value, which later
        campaigns count on being computed."""
        node = allowed.node
        if not (isinstance(node, py.BoolOp) and isinstance(node.op, py.And)):
            return allowed
        values = node.values
        keep = 1 if _defines(values[0]) else 0
        moved = [v for v in values[keep:] if self._eager_test(v)]
        if not moved:
            return allowed
        rest = [v for v in values[keep:] if not any(v is m for m in moved)]
        order = [*values[:keep], *moved, *rest]
        return replace(allowed, node=py.BoolOp(py.And(), order, **POS))

    def _eager_test(self, node: py.expr) -> bool:
        reads_aggregate = False
        for sub in py.walk(node):
            if isinstance(sub, (py.Call, py.NamedExpr, py.IfExp, py.Lambda)):
                return False
            if isinstance(sub, py.Name):
                if sub.id in self.eager_aggregates:
                    reads_aggregate = True
                elif sub.id not in self.params:
                    return False
        return reads_aggregate

    # -- expressions --

    def ev(self, e: A.Expr, item: str | None) -> Val:
        """Compile `e`; afterwards `known` holds what is computed once it has run."""
        before = self.known
        val = self._ev(e, item)
        self.known = before | val.computes if val.computes else before
        return val

    def _ev(self, e: A.Expr, item: str | None) -> Val:
        match e:
            case A.Paren(inner=inner):
                return self.ev(inner, item)
            case A.NumberLit(value=value):
                return Val("num", const=Fraction(value))
            case A.StringLit(value=value):
                return Val("str", const=value)
            case A.BoolLit(value=value):
                return Val("bool", const=value)
            case A.DurationLit(seconds=seconds):
                return Val("dur", const=seconds)
            case A.DateTimeLit(value=v):
                assert v.date.value is not None
                seconds = v.time.seconds or 0 if v.time else 0
                return Val("time", const=instant(v.date.value, seconds, self.env.tz))
            case A.ListLit(items=items):
                values = [self.ev(x, item) for x in items]
                return effects(_list(values), values)
            case A.RuntimeList(name=list_name):
                get = py.Attribute(name("lists"), "get", LOAD, **POS)
                return Val("strs", py.Call(get, [const(list_name.value), name("EMPTY")], [], **POS))
            case A.Path():
                return self.path(e, item)
            case A.Not(operand=operand):
                a = self.ev(operand, item)
                return effects(negate(a), [a])
            case A.Neg(operand=operand):
                a = self.ev(operand, item)
                return effects(self.neg(a), [a])
            case A.Logic(op=op, left=left, right=right):
                a, b = self.ev(left, item), self.ev(right, item)
                return effects(logic(op, a, b), [a, b], only=a)  # `right` may not run
            case A.Arith(op=op, left=left, right=right):
                a, b = self.ev(left, item), self.ev(right, item)
                return effects(self.arith(op, a, b), [a, b])
            case A.Compare(op=op, left=left, right=right):
                a, b = self.ev(left, item), self.ev(right, item)
                return effects(self.compare(op, a, b), [a, b])
        return self.aggregate(e)

    def path(self, e: A.Path, item: str | None) -> Val:
        text = e.text
        if text in self.env.segments:
            return self.segment(text)
        if text in CTX_ATTRS:
            kind, scale = self.env.kind(BUILTIN_FIELDS[text])
            return Val(kind, self.field(CTX_ATTRS[text]), scale=scale)
        if text in ITEM_ATTRS:
            assert item is not None, text
            kind, scale = self.env.kind(BUILTIN_FIELDS[text])
            return Val(kind, py.Attribute(name(item), ITEM_ATTRS[text], LOAD, **POS), scale=scale)
        slot = self.env.attrs[text]
        kind, scale = self.env.kind(slot.type)
        return Val(kind, self.attribute(slot, item), scale=scale)

    def attribute(self, slot: AttrSlot, item: str | None) -> py.expr:
        """`bound.user[i]`, `bound.cart[i]`, `bound.items[item.index][i]`, or for thawed
        coupon terms `attr<i>(item)`."""
        i = const(slot.index)
        if slot.root != "item":
            tup = py.Attribute(name("bound"), slot.root, LOAD, **POS)
            return self.hoist(f"{slot.root[0]}{slot.index}", py.Subscript(tup, i, LOAD, **POS))
        assert item is not None
        if self.env.item_readers is not None:
            return call(f"attr{slot.index}", name(item))
        lines = self.hoist("b_items", py.Attribute(name("bound"), "items", LOAD, **POS))
        line = py.Subscript(lines, py.Attribute(name(item), "index", LOAD, **POS), LOAD, **POS)
        return py.Subscript(line, i, LOAD, **POS)

    def segment(self, name: str) -> Val:
        key = ("seg", name)
        if key in self.values:
            return self.values[key]
        index, expr = self.env.segments[name]
        return self._lazy(key, f"s{index}", lambda: self.ev(expr, None))

    def aggregate(self, e: A.Expr) -> Val:
        key = self.gen.key(e)
        if key in self.values:
            return self.values[key]
        helper = self.gen.aggregate(e)
        if helper.const is not None:
            return helper.const

        def compute() -> Val:
            deps = [self.ev(dep, None) for _, dep in helper.deps]
            value = call(helper.name, *map(name, PARAMS), *map(_arg, deps))
            return effects(Val(helper.kind, value, scale=helper.scale), deps)

        return self._lazy(key, self.local("a"), compute)

    def _lazy(self, key: Key, local: str, define: Callable[[], Val]) -> Val:
        if key in self.lazy:
            local, val = self.lazy[key]
        elif self.uses.get(key, 0) <= 1:
            return define()  # used once: inline, nothing to keep
        else:
            val = self._neutral(define)
            if val.is_const:
                self.values[key] = val
                return val
            self.lazy[key] = (local, val)
        assert val.node is not None
        computes = frozenset((key,))
        if key in self.known:
            node: py.expr = name(local)
        elif key not in self.seen and not self.neutral:
            node, computes = py.NamedExpr(store(local), val.node, **POS), computes | val.computes
        else:
            ready = py.Compare(name(local), [py.IsNot()], [const(None)], **POS)
            node = py.IfExp(ready, name(local), py.NamedExpr(store(local), val.node, **POS), **POS)
            self.unset.add(local)
        self.seen.add(key)
        return Val(val.kind, node, scale=val.scale, computes=computes)

    def _neutral(self, define: Callable[[], Val]) -> Val:
        """A definition used at several places must be right whatever ran before each:
        compile it assuming nothing lazy is computed yet."""
        saved = self.known, self.neutral
        self.known, self.neutral = frozenset(), True
        try:
            return define()
        finally:
            self.known, self.neutral = saved

    def plan(self, e: A.Expr, item: str) -> AggPlan:
        """An aggregate's loop parts; `const` when the rule text alone decides it."""
        saved = self.known  # the loop body may run no time at all
        self.loops += 1
        try:
            return self._plan(e, item)
        finally:
            self.loops -= 1
            self.known = saved

    def _plan(self, e: A.Expr, item: str) -> AggPlan:
        op = _AGG_OPS[type(e)]
        cond: Val | None = None
        cond_expr = e.cond if isinstance(e, AGGREGATES) else None
        if cond_expr is not None:
            cond = self.ev(cond_expr, item)
            if cond.is_const:
                if cond.const:
                    cond = None  # every line matches
                elif op != "all":  # no line matches; `all` still depends on an empty cart
                    return _const_plan(op, FALSE if op == "any" else Val("num", const=Fraction(0)))
        if op in ("any", "all"):
            return AggPlan(op, "bool", 0, cond) if cond or op == "any" else _const_plan(op, TRUE)
        if op == "count":
            return AggPlan(op, "num", 0, cond, py.Attribute(name(item), "qty", LOAD, **POS))
        assert isinstance(e, A.SumItems)
        value = self.ev(e.value, item)
        if value.is_const:
            if value.const == 0:
                return _const_plan(op, value)
            return AggPlan(op, "num", scale(value), cond, at(value, scale(value)))
        assert value.node is not None
        return AggPlan(op, value.kind, value.scale, cond, value.node)

    # -- operators --

    def neg(self, v: Val) -> Val:
        if v.is_const:
            return Val(v.kind, const=-v.const)
        assert v.node is not None
        if v.kind == "dec":
            return Val("dec", call("dneg", v.node))
        return Val(v.kind, py.UnaryOp(py.USub(), v.node, **POS), scale=v.scale)

    def arith(self, op: str, a: Val, b: Val) -> Val:
        if a.kind in ("time", "dur") or b.kind in ("time", "dur"):
            kinds = {a.kind, b.kind}
            both = a.kind == b.kind == "time"
            kind = "dur" if both or "time" not in kinds else "time"
            if a.is_const and b.is_const:
                return Val(kind, const=_FOLD[op](a.const, b.const))
            return Val(kind, py.BinOp(node(a), _ARITH[op](), node(b), **POS))
        if a.is_const and b.is_const:
            return Val("num", const=_FOLD[op](a.const, b.const))
        if "dec" in (a.kind, b.kind):
            func = {"+": "dadd", "-": "dsub", "*": "dmul"}[op]
            return Val("dec", call(func, self.decimal(a), self.decimal(b)))
        if op == "*":
            for x, y in ((a, b), (b, a)):
                if x.is_const and x.const in (0, 1):
                    return y if x.const == 1 else x
            sa, sb = scale(a), scale(b)
            amount = _amount(a, b)
            if amount is not None:
                return Val("num", amount, scale=sa + sb)
            return Val("num", py.BinOp(at(a, sa), py.Mult(), at(b, sb), **POS), scale=sa + sb)
        if b.is_const and b.const == 0:
            return a
        if a.is_const and a.const == 0 and op == "+":
            return b
        s = max(scale(a), scale(b))
        return Val("num", py.BinOp(at(a, s), _ARITH[op](), at(b, s), **POS), scale=s)

    def decimal(self, v: Val) -> py.expr:
        """A number as a `Decimal` (or an int, which `Decimal` arithmetic takes exactly)."""
        if v.is_const:
            s = min_scale(v.const)
            return (
                const(int(v.const))
                if s == 0
                else self.gen.constant(_dscale(int(v.const * 10**s), s))
            )
        assert v.node is not None
        if v.kind == "dec" or v.scale == 0:
            return v.node
        return call("dscale", v.node, const(v.scale))

    def compare(self, op: str, a: Val, b: Val) -> Val:
        if op in ("in", "not in"):
            return self.member(op, a, b)
        if a.is_const and b.is_const:
            return Val("bool", const=_FOLD[op](a.const, b.const))
        if a.kind in ("num", "dec") and b.kind in ("num", "dec"):
            return self._num_compare(op, a, b)
        return compare(node(a), op, node(b))

    def _num_compare(self, op: str, a: Val, b: Val) -> Val:
        if a.is_const:
            return self._num_compare(_MIRROR[op], b, a)
        assert a.node is not None
        if "dec" in (a.kind, b.kind):
            return compare(self.decimal(a), op, self.decimal(b))
        if not b.is_const:
            s = max(a.scale, b.scale)
            return compare(at(a, s), op, at(b, s))
        # Fold the constant to the operand's scale; an integer never equals a fraction.
        target = b.const * 10**a.scale
        if target.denominator == 1:
            return compare(a.node, op, const(int(target)))
        if op in ("==", "!="):
            return Val("bool", const=op == "!=")
        if op in ("<", "<="):
            return compare(a.node, "<=", const(floor(target)))
        return compare(a.node, ">=", const(ceil(target)))

    def member(self, op: str, a: Val, b: Val) -> Val:
        positive = op == "in"
        if b.is_const and a.is_const:
            return Val("bool", const=(a.const in b.const) == positive)
        if b.kind == "strs":
            container = const(b.const) if b.is_const else node(b)
            return compare(node(a), op, container)
        if b.is_const:
            return self._in_constants(op, a, b.const)
        if b.items is not None:
            return self._in_items(op, a, b.items)
        assert b.node is not None  # a `list of int` attribute: a tuple of ints
        if a.kind == "dec":
            return compare(a.node or node(a), op, b.node)
        if scale(a) == 0:
            return compare(at(a, 0), op, b.node)
        if a.is_const:
            return Val("bool", const=not positive)
        assert a.node is not None
        test = Val("bool", call("num_in", a.node, const(10**a.scale), b.node))
        return test if positive else negate(test)

    def _in_constants(self, op: str, a: Val, values: tuple[Fraction, ...]) -> Val:
        assert a.node is not None
        if a.kind == "dec":
            members = frozenset(_dscale(int(v * 10 ** min_scale(v)), min_scale(v)) for v in values)
            return compare(a.node, op, self.gen.constant(members))
        scaled = (v * 10**a.scale for v in values)
        ints = frozenset(int(v) for v in scaled if v.denominator == 1)
        if not ints:
            return Val("bool", const=op == "not in")
        return compare(a.node, op, const(ints))

    def _in_items(self, op: str, a: Val, items: tuple[Val, ...]) -> Val:
        if any(v.kind == "dec" for v in (a, *items)):
            elements = [self.decimal(v) for v in items]
            return compare(self.decimal(a), op, py.Tuple(elements, LOAD, **POS))
        s = max(scale(v) for v in (a, *items))
        return compare(at(a, s), op, py.Tuple([at(v, s) for v in items], LOAD, **POS))


_AGG_OPS: dict[type, str] = {
    A.AnyItems: "any", A.AllItems: "all", A.CountItems: "count", A.SumItems: "sum",
}  # fmt: skip


def _const_plan(op: str, value: Val) -> AggPlan:
    return AggPlan(op, value.kind, 0, None, const=value)


def _amount(a: Val, b: Val) -> py.expr | None:
    """`item.amount` for `item.price * item.qty` (either way round): the line's amount,
    computed once when the context is validated (`dsl.context.Item`)."""
    if not (isinstance(a.node, py.Attribute) and isinstance(b.node, py.Attribute)):
        return None
    x, y = a.node, b.node
    if not (isinstance(x.value, py.Name) and isinstance(y.value, py.Name)):
        return None
    if x.value.id != y.value.id or {x.attr, y.attr} != {"price", "qty"}:
        return None
    return py.Attribute(name(x.value.id), "amount", LOAD, **POS)


def _arg(v: Val) -> py.expr:
    return at(v, scale(v)) if v.kind == "num" else node(v)


_GUARD_FIELDS = frozenset({"item.sku", "item.category", "item.shop"})
_MAX_DISPATCH = 12  # texts a check_all loop tests per line before it stops adding new ones


def _guard(e: A.Expr) -> tuple[str, str] | None:
    """(field, text) when aggregate `e` (any, count or sum) counts only lines whose text
    field equals a constant: its condition is, or starts with, `item.f == "text"`."""
    if not isinstance(e, (A.AnyItems, A.CountItems, A.SumItems)) or e.cond is None:
        return None
    cond = e.cond
    while True:
        while isinstance(cond, A.Paren):
            cond = cond.inner
        if not (isinstance(cond, A.Logic) and cond.op == "and"):
            break
        cond = cond.left
    if not (isinstance(cond, A.Compare) and cond.op == "=="):
        return None
    for path, text in ((cond.left, cond.right), (cond.right, cond.left)):
        while isinstance(path, A.Paren):
            path = path.inner
        while isinstance(text, A.Paren):
            text = text.inner
        field = path.text if isinstance(path, A.Path) else ""
        if field in _GUARD_FIELDS and isinstance(text, A.StringLit):
            return ITEM_ATTRS[field], text.value
    return None


def _guard_test(attr: str, text: str) -> py.expr:
    return py.Compare(py.Attribute(name("it"), attr, LOAD, **POS), [py.Eq()], [const(text)],
                      **POS)  # fmt: skip


def _is_guard(node: py.expr) -> tuple[str, str] | None:
    """(field, text) when `node` is `it.<text field> == 'text'` (either way round)."""
    if not (isinstance(node, py.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], py.Eq)):
        return None
    for side, other in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
        if (
            isinstance(side, py.Attribute)
            and isinstance(side.value, py.Name)
            and side.value.id == "it"
            and "item." + side.attr in _GUARD_FIELDS
            and isinstance(other, py.Constant)
            and isinstance(other.value, str)
        ):
            return side.attr, other.value
    return None


def _split_guard(plan: AggPlan) -> tuple[str, str, Val | None] | None:
    """(field, text, the rest of the condition) when a line must first match
    `it.<text field> == 'text'` to count in `plan`."""
    if plan.cond is None or plan.cond.node is None:
        return None
    node = plan.cond.node
    found = _is_guard(node)
    if found is not None:
        return (*found, None)
    if isinstance(node, py.BoolOp) and isinstance(node.op, py.And):
        found = _is_guard(node.values[0])
        if found is not None:
            rest = node.values[1:]
            test = rest[0] if len(rest) == 1 else py.BoolOp(py.And(), rest, **POS)
            return (*found, Val("bool", test))
    return None


def _dispatch(attr: str, texts: Mapping[str, list[py.stmt]]) -> py.If:
    """`if g == t1: ... elif g == t2: ...` on the line's field, read once into `g_<attr>`."""
    chain: list[py.stmt] = []
    for text, body in reversed(list(texts.items())):
        test = py.Compare(name(f"g_{attr}"), [py.Eq()], [const(text)], **POS)
        chain = [py.If(test, body, chain, **POS)]
    (first,) = chain
    assert isinstance(first, py.If)
    return first


def _list(values: list[Val]) -> Val:
    kind = "strs" if values[0].kind == "str" else "nums"
    if all(v.is_const for v in values):
        consts = [v.const for v in values]
        return Val(kind, const=frozenset(consts) if kind == "strs" else tuple(consts))
    return Val(kind, items=tuple(values))


# --- the module ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conditions:
    """A campaign's `when` and `deny when` expressions, in file order."""

    whens: tuple[A.Expr, ...]
    denies: tuple[A.Expr, ...]

    @property
    def strict_root(self) -> A.Expr | None:
        """The condition evaluated whatever the others say: the first `when`, or with no
        `when` the first `deny when`."""
        return (self.whens or self.denies or (None,))[0]


@dataclass(slots=True)
class Generator:
    """Collects the functions of one ruleset's module, then compiles it once."""

    env: Env
    filename: str
    defs: list[py.stmt] = field(default_factory=list)
    globals: dict[str, object] = field(default_factory=lambda: dict(HELPERS))
    _pool: dict[Key, str] = field(default_factory=dict)
    _aggs: dict[Key, AggHelper] = field(default_factory=dict)
    _refs: dict[tuple[int, bool], list[tuple[Key, A.Expr]]] = field(default_factory=dict)
    _keys: dict[int, Key] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, reader in (self.env.item_readers or {}).items():
            self.globals[f"attr{self.env.attrs[path].index}"] = reader

    def constant(self, value: object) -> py.Name:
        """A constant `ast.Constant` cannot hold (a Decimal), as a pooled global."""
        key = (type(value).__name__, repr(value))
        if key not in self._pool:
            self._pool[key] = f"K{len(self._pool)}"
            self.globals[self._pool[key]] = value
        return name(self._pool[key])

    def key(self, e: A.Expr) -> Key:
        """`expr_key(e)`, kept per node: the same aggregate is keyed from several places."""
        found = self._keys.get(id(e))
        if found is None:
            found = self._keys[id(e)] = expr_key(e)
        return found

    def refs(self, e: A.Expr, inside: bool = False) -> list[tuple[Key, A.Expr]]:
        """Shared values `e` reads directly: segments, and aggregates but not what those
        read. With `inside`, what aggregate `e` itself reads."""
        if (id(e), inside) in self._refs:
            return self._refs[id(e), inside]
        found: dict[Key, A.Expr] = {}
        stack = list(reversed(children(e))) if inside else [e]
        while stack:
            x = stack.pop()
            if isinstance(x, AGGREGATES):
                found.setdefault(self.key(x), x)
            elif isinstance(x, A.Path) and x.text in self.env.segments:
                found.setdefault(("seg", x.text), x)
            else:
                stack.extend(reversed(children(x)))
        self._refs[id(e), inside] = result = list(found.items())
        return result

    def aggregate(self, e: A.Expr) -> AggHelper:
        """The module-level function computing aggregate `e` (shared by equal ones)."""
        key = self.key(e)
        if key in self._aggs:
            return self._aggs[key]
        deps = self.refs(e, inside=True)
        known: dict[Key, Val] = {}
        for i, (dep_key, dep) in enumerate(deps):
            inner = self.aggregate(dep) if dep_key[0] != "seg" else None
            kind, scale = (inner.kind, inner.scale) if inner else ("bool", 0)
            known[dep_key] = (
                inner.const if inner and inner.const else Val(kind, name(f"d{i}"), scale=scale)
            )
        fn = Fn(self, (*PARAMS, *(f"d{i}" for i in range(len(deps)))), known)
        plan = fn.plan(e, "it")
        helper_name = f"agg_{len(self._aggs)}"
        self._aggs[key] = helper = AggHelper(helper_name, plan.kind, plan.scale, deps, plan.const)
        if plan.const is None:
            self.defs.append(fn.finish(helper_name, fn.helper_body(plan)))
        return helper

    def add_check_all(self, campaigns: Sequence[Conditions], ids: Sequence[str]) -> None:
        fn = Fn(self, PARAMS, {})
        every = [e for c in campaigns for e in (*c.whens, *c.denies)]
        strict = [r for c in campaigns if (r := c.strict_root) is not None]
        fn.prepare(strict, every, guarded=True)
        results = [fn.outcome(c) for c in campaigns]
        self.defs.append(fn.finish("check_all", [py.Return(py.List(results, LOAD, **POS), **POS)]))
        # `passing_all`: the same body and tests, answering the ids of the OK campaigns:
        # eligibility without a pass over all the statuses. The nodes are shared: both
        # functions evaluate the same expressions in the same order.
        tail: list[py.stmt] = [assign("out", py.List([], LOAD, **POS))]
        for campaign_id, result in zip(ids, results, strict=True):
            test = _is_ok(result)
            if test is not None:
                # `out += [id]`: as cheap as `out.append(id)`, and reads no attribute.
                one = py.List([const(campaign_id)], LOAD, **POS)
                add = py.AugAssign(store("out"), py.Add(), one, **POS)
                tail.append(add if isinstance(test, py.Constant) else if_(test, add))
        tail.append(py.Return(name("out"), **POS))
        self.defs.append(fn.finish("passing_all", tail))

    def add_check(self, name: str, cond: Conditions) -> None:
        fn = Fn(self, PARAMS, {})
        strict = [cond.strict_root] if cond.strict_root is not None else []
        fn.prepare(strict, (*cond.whens, *cond.denies))
        self.defs.append(fn.finish(name, [py.Return(fn.outcome(cond), **POS)]))

    def add_filter(self, name: str, expr: A.Expr) -> None:
        fn = Fn(self, ("item", *PARAMS), {})
        fn.prepare([expr], [expr])
        self.defs.append(fn.finish(name, [py.Return(node(fn.ev(expr, "item")), **POS)]))

    def build(self) -> tuple[dict[str, Any], py.Module]:
        """Compile the module and run it with no builtins; its namespace holds the
        functions."""
        module = py.Module(self.defs, [])
        code = compile(module, self.filename, "exec")
        namespace: dict[str, Any] = {"__builtins__": {}, **self.globals}
        exec(code, namespace)  # a code object built from `ast` nodes, never source text
        return namespace, module


def _is_ok(result: py.expr) -> py.expr | None:
    """When a campaign's outcome `result` is OK: never (None), always (the constant True),
    or when the returned test holds."""
    if isinstance(result, py.Constant):
        return const(True) if result.value == OK else None
    if isinstance(result, py.IfExp):
        yes, no = result.body, result.orelse
        if isinstance(yes, py.Constant) and isinstance(no, py.Constant):
            if yes.value == OK and no.value != OK:
                return result.test
            if no.value == OK and yes.value != OK:
                return py.UnaryOp(py.Not(), result.test, **POS)
    return py.UnaryOp(py.Not(), result, **POS)  # OK is 0, the only falsy outcome


def _merge_constants(body: list[py.stmt]) -> list[py.stmt]:
    """Runs of `local = constant` as one `a, b, c = (x, y, z)`: one constant tuple
    unpacked, half the instructions of the separate assignments."""
    out: list[py.stmt] = []
    run: list[tuple[py.Assign, str, py.Constant]] = []

    def flush() -> None:
        if len(run) > 1:
            names = py.Tuple([store(name) for _, name, _ in run], STORE, **POS)
            values = py.Tuple([value for _, _, value in run], LOAD, **POS)
            out.append(py.Assign([names], values, **POS))
        else:
            out.extend(stmt for stmt, _, _ in run)
        run.clear()

    for stmt in body:
        match stmt:
            case py.Assign(targets=[py.Name(id=name)], value=py.Constant() as value):
                run.append((stmt, name, value))
            case _:
                flush()
                out.append(stmt)
    flush()
    return out


def _defines(node: py.expr) -> bool:
    """Whether evaluating `node` may compute a shared value (`(v := ...)`)."""
    return any(isinstance(sub, py.NamedExpr) for sub in py.walk(node))


def _choose(test: Val, yes: py.expr, no: py.expr) -> py.expr:
    if test.is_const:
        return yes if test.const else no
    assert test.node is not None
    return py.IfExp(test.node, yes, no, **POS)
