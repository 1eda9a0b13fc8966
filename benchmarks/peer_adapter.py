"""promo-engine as an adapter of the peer harness in ../shared/bench (issue #5).

Run from the bench folder (the first run creates /tmp/peervenv and installs the peers):

    ./run.sh peers --project-path /work/main \\
        --adapter-file /work/main/benchmarks/peer_adapter.py --only python-fused,zen,promo

`benchmarks/bench_peers.py` does that and writes the ratios into docs/performance.md.

The harness's venv must import our dependencies from this checkout's `pyproject.toml`:
lark, pyyaml, tzdata and redis come with the peers' own requirements; orjson does not:

    /tmp/peervenv/bin/pip install orjson

What each harness step runs:

- `translate`: the neutral AST (peers/ruleast.py) to `.promo` text: a header (`USD`, UTC),
  a `context` block declaring every field the workload reads that is not a built-in
  field of LANGUAGE.md 4 (`user.account_age_days: int`), and one campaign per workload
  campaign (its id with `-` as `_`) with a window covering all time, the condition as its
  `when`, and a token discount (campaigns need a reward; eligibility ignores it).
- `compile`: our compiler (`dsl.compiler.compile_text`), then a fresh `Engine` on a
  `MemoryStore` loads the ruleset, as a service does.
- `evaluate(ctx)`: what `Engine.evaluate` does before it computes the cart (LANGUAGE.md
  10.1 steps 1-2), through `engine.evaluation.eligible`: the currency, validation of the
  whole context with conversion of money to minor units (engine/context.py
  `parse_context`), the ruleset's `bind` of declared attributes, the window, schedule and
  pause checks, and the generated rule checks (`passing_all`: `check_all`'s code,
  answering the ids of the campaigns that pass); then the campaign ids are mapped back to
  the workload's. TIMED: all of that, plus reading the engine clock, one dict lookup
  to find the context's JSON form, and the id mapping.

The workload's money is JSON floats, which our API refuses (LANGUAGE.md 4). Each context
is therefore converted ONCE, untimed, when the adapter is made, into the JSON our API
receives: money as strings with two decimals (`"12.90"`), `cart.currency`, and the
non-built-in user fields under `user.attributes`. The harness passes its own dicts to
`evaluate` and has no per-context preparation hook, so the converted forms are kept in a
dict keyed by `user.id`, which is unique in the workload (checked here), read from the
harness's `data/contexts.jsonl`. The harness's dict is never mutated.

Caches, stated plainly: nothing converted from one context is reused for another. Money
texts are converted on every call (engine/context.py keeps no money cache). It does keep
bounded process-wide dicts of the date-time and IP texts it has converted, but the
workload's contexts carry neither a date-time nor an IP, so the timed path never reads
them. What persists across contexts was built from the ruleset when it was loaded: the
generated code, the plan of evaluation order, and the window answers of the current
second (per loaded ruleset).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

from peers import ruleast
from peers.adapters.base import Adapter, AdapterUnavailable

CURRENCY = "USD"
# The instant every evaluation runs at: inside the all-time window of the translation.
NOW_TEXT = "2026-11-11T12:00:00Z"
_TYPES = {bool: "bool", int: "int", str: "string"}


def promo_id(workload_id: str) -> str:
    return workload_id.replace("-", "_")


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        raise ValueError("a boolean is not compared with a literal here")
    return repr(value)


def to_promo(node: dict[str, Any], top: bool = False) -> str:
    """A neutral AST node as a .promo expression."""
    kind = ruleast.kind(node)
    arg = node[kind]
    if kind == "all":
        text = " and ".join(to_promo(child) for child in arg)
        return text if top else f"({text})"
    if kind == "any":
        return "(" + " or ".join(to_promo(child) for child in arg) + ")"
    if kind == "not":
        return f"not {to_promo(arg)}"
    if kind == "cmp":
        path, op, value = arg
        return f"{path} {op} {_literal(value)}"
    if kind == "in":
        path, values = arg
        return f"{path} in [{', '.join(_literal(v) for v in values)}]"
    if kind == "has":
        path, value = arg
        return f"{_literal(value)} in {path}"
    if kind == "is":
        path, value = arg
        return path if value else f"not {path}"
    if kind == "any_item":
        cond = " and ".join(f"item.{f} {op} {_literal(v)}" for f, op, v in arg)
        return f"any(items where {cond})"
    if kind == "cat_sum_gte":
        category, threshold = arg
        return (
            f"sum(item.price * item.qty for items where item.category == {_literal(category)})"
            f" >= {_literal(threshold)}"
        )
    raise ValueError(f"unknown node kind {kind!r}")


def declared_fields(ruleset: dict[str, Any], sample: dict[str, Any]) -> dict[str, str]:
    """Field paths the workload reads that LANGUAGE.md 4 does not define, with the type
    of their value in a sample context."""
    from dsl.vocabulary import BUILTIN_FIELDS

    fields: dict[str, str] = {}
    for campaign in ruleset["campaigns"]:
        for node in ruleast.walk(campaign["when"]):
            kind = ruleast.kind(node)
            if kind in ("cmp", "in", "has", "is"):
                path = node[kind][0]
                if path not in BUILTIN_FIELDS and path not in fields:
                    fields[path] = _TYPES[type(ruleast.get_path(sample, path))]
    return fields


def ruleset_text(ruleset: dict[str, Any], fields: dict[str, str]) -> str:
    lines = ['ruleset "peer-bench"', 'timezone "UTC"', f"currency {CURRENCY}", ""]
    if fields:
        lines += ["context {", *(f"    {path}: {kind}" for path, kind in fields.items()), "}", ""]
    for campaign in ruleset["campaigns"]:
        lines += [
            f"campaign {promo_id(campaign['id'])} {{",
            "    window 2000-01-01 .. 2099-12-31",
            f"    when {to_promo(campaign['when'], top=True)}",
            "    discount { value 0.01 off }",
            "}",
            "",
        ]
    return "\n".join(lines)


def _money(value: float) -> str:
    text = format(value, ".2f")
    if float(text) != value:
        raise ValueError(f"{value!r} is not an amount with 2 decimals")
    return text


def api_context(ctx: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """The JSON our API receives for a workload context (LANGUAGE.md 4, 3.2)."""
    user = dict(ctx["user"])
    attributes = {}
    for path in fields:
        root, name = path.split(".", 1)
        if root != "user":
            raise AdapterUnavailable(f"declared field {path}: only user fields are converted")
        attributes[name] = user.pop(name)
    if attributes:
        user["attributes"] = attributes
    cart = ctx["cart"]
    items = [
        {"sku": i["sku"], "category": i["category"], "price": _money(i["price"]), "qty": i["qty"]}
        for i in cart["items"]
    ]
    converted = {k: v for k, v in ctx.items() if k not in ("user", "cart")}
    converted["user"] = user
    converted["cart"] = {"currency": CURRENCY, "total": _money(cart["total"]), "items": items}
    return converted


class PromoEngineAdapter(Adapter):  # type: ignore[misc]
    name = "promo-engine (DSL compiled to Python)"
    impl = "CPython, one generated function per ruleset"
    call_shape = "validate + bind + checks -> [ids]"
    support: ClassVar[dict[str, str]] = {"any_item": "native", "cat_sum_gte": "native"}
    notes: ClassVar[list[str]] = [
        "timed from our API's JSON form of each context (money as strings, declared fields "
        "under user.attributes), converted once, untimed, from the workload's floats; timed: "
        "validation and conversion (parse_context), bind, window/schedule/pause checks, "
        "the generated rule checks, id mapping (engine.evaluation.eligible); nothing "
        "converted is cached across contexts; fixed overhead = the same with a one-campaign "
        "ruleset whose condition is `true`"
    ]

    def __init__(self, bench_dir: Path) -> None:
        super().__init__()
        data = bench_dir / "data"
        self._ruleset_json = json.loads((data / "ruleset.json").read_text())
        contexts = [json.loads(line) for line in (data / "contexts.jsonl").open() if line.strip()]
        self._sample = contexts[0]
        self._fields = declared_fields(self._ruleset_json, contexts[0])
        self._json = {c["user"]["id"]: api_context(c, self._fields) for c in contexts}
        if len(self._json) != len(contexts):
            raise AdapterUnavailable("user ids are not unique: cannot find a context's JSON form")

    def translate(self, ruleset: dict[str, Any]) -> str:
        return ruleset_text(ruleset, declared_fields(ruleset, self._sample))

    def compile(self, source: str) -> None:
        from dsl.compiler import compile_text
        from dsl.localtime import parse_instant
        from engine.clock import FixedClock
        from engine.engine import Engine
        from engine.evaluation import eligible
        from engine.store.memory import MemoryStore

        compiled, _ = compile_text(source, "peer-bench.promo")
        engine = Engine(MemoryStore(), FixedClock(parse_instant(NOW_TEXT)))
        asyncio.run(engine.load(compiled))
        back = {promo_id(c["id"]): c["id"] for c in self._ruleset_json["campaigns"]}
        converted = self._json
        clock = engine.clock

        def evaluate(ctx: dict[str, Any]) -> list[str]:
            ids = eligible(engine, converted[ctx["user"]["id"]], clock.now())
            return [back[i] for i in ids]

        self.evaluate = evaluate  # type: ignore[method-assign]
        self.overhead = self._overhead(source)

    def _overhead(self, source: str) -> Any:
        """The fixed per-context work: the same path on a ruleset of one campaign whose
        condition is `true` (declarations kept, so binding is the same)."""
        from dsl.compiler import compile_text
        from dsl.localtime import parse_instant
        from engine.clock import FixedClock
        from engine.engine import Engine
        from engine.evaluation import eligible
        from engine.store.memory import MemoryStore

        head = source.split("campaign ", 1)[0].replace('"peer-bench"', '"peer-bench-true"')
        text = head + "campaign always {\n    window 2000-01-01 .. 2099-12-31\n"
        text += "    discount { value 0.01 off }\n}\n"
        compiled, _ = compile_text(text, "peer-bench-true.promo")
        engine = Engine(MemoryStore(), FixedClock(parse_instant(NOW_TEXT)))
        asyncio.run(engine.load(compiled))
        converted = self._json
        clock = engine.clock

        def overhead(ctx: dict[str, Any]) -> list[str]:
            return eligible(engine, converted[ctx["user"]["id"]], clock.now())

        return overhead

    def evaluate(self, ctx: dict[str, Any]) -> list[str]:  # replaced by compile()
        raise RuntimeError("not compiled")


def make_adapters(opts: Any) -> list[Adapter]:
    try:
        import dsl.compiler  # noqa: F401
        import engine.evaluation  # noqa: F401
    except ImportError as exc:
        raise AdapterUnavailable(
            f"cannot import promo-engine from --project-path {opts.project_paths}: {exc} "
            "(the harness venv needs our dependencies: pip install orjson)"
        ) from exc
    return [PromoEngineAdapter(Path(opts.bench_dir))]
