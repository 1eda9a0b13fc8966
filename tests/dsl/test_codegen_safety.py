"""Generated code reaches nothing but the context, the helpers it is given and its own
functions: no builtins, no name taken from rule text, no rule text outside constants."""

from __future__ import annotations

import ast
import builtins
import re
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsl import codegen
from dsl.codegen import HELPERS
from dsl.compiler import compile_text
from dsl.context import Bound, Context, Item
from dsl.model import CompiledRuleset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT.parent / "shared" / "spec" / "examples").glob("*.promo"))
ALLOWED = {*Context.__slots__, *Item.__slots__, *Bound.__slots__, "get", *HELPERS}


def big_ruleset(campaigns: int = 500) -> str:
    """The shared examples repeated under one header until `campaigns` campaigns, every
    segment and campaign renamed apart (about 230 KB for 500)."""
    decl = re.compile(r"^(segment|campaign)\s+(\w+)", re.MULTILINE)
    bodies, attrs = [], {}
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        for line in re.findall(r"^context\s*\{(.*?)^\}", text, re.MULTILINE | re.DOTALL)[:1]:
            attrs.update(
                {a.split(":")[0].strip(): a.strip() for a in line.splitlines() if a.strip()}
            )
        start = decl.search(text)
        assert start is not None
        body = text[start.start() :]
        found = [m.groups() for m in decl.finditer(body)]
        bodies.append((body, [name for _, name in found], [k for k, _ in found].count("campaign")))
    parts = ['ruleset "big"\ntimezone "Asia/Shanghai"\ncurrency CNY\ncontext {\n']
    parts += [f"    {a}\n" for a in attrs.values()] + ["}\n"]
    total, copy = 0, 0
    while total < campaigns:
        for n, (body, names, count) in enumerate(bodies):
            if total + count <= campaigns:
                words = re.compile(r"\b(" + "|".join(names) + r")\b")
                parts.append(words.sub(lambda m, k=f"{n}_{copy}": f"{m.group(1)}_{k}", body))
                total += count
        copy += 1
    return "\n".join(parts)


def generated_functions(r: CompiledRuleset) -> dict[str, types.FunctionType]:
    namespace = r.check_all.__globals__  # type: ignore[attr-defined]
    return {
        name: f
        for name, f in namespace.items()
        if isinstance(f, types.FunctionType) and f.__code__.co_filename.startswith("<promo")
    }


def code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def check_names(r: CompiledRuleset) -> None:
    functions = generated_functions(r)
    assert "check_all" in functions and all(
        f"check_{i}" in functions for i in range(len(r.campaigns))
    )
    namespace = r.check_all.__globals__  # type: ignore[attr-defined]
    assert namespace["__builtins__"] == {}
    pooled = {n for n in namespace if n[0] == "K" and n[1:].isdigit()}
    allowed = ALLOWED | set(functions) | pooled
    for f in functions.values():
        for code in code_objects(f.__code__):
            assert set(code.co_names) <= allowed, (code.co_name, set(code.co_names) - allowed)
            assert not set(code.co_names) & set(dir(builtins)), code.co_name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_use_only_allowed_names(path: Path) -> None:
    check_names(compile_text(path.read_text(encoding="utf-8"), path.name)[0])


def test_a_large_file_uses_only_allowed_names_and_compiles_fast() -> None:
    text = big_ruleset()
    compile_text(EXAMPLES[0].read_text(encoding="utf-8"))  # the parser is built once per process
    started = time.process_time()
    r, _ = compile_text(text, "big.promo")
    elapsed = time.process_time() - started
    assert len(r.campaigns) == 500
    check_names(r)
    assert elapsed < 3.0  # CPU seconds; the budget is 1 s, this only catches blow-ups


def test_rule_text_never_becomes_code() -> None:
    hostile = '__import__(\\"os\\").system(\\"true\\")'
    text = (
        'ruleset "t"\ntimezone "UTC"\ncurrency CNY\n'
        "segment exec = user.level >= 1\nsegment open = exec and user.is_new\n"
        f'campaign eval {{ window 2026-01-01 .. 2026-01-02\n  when channel == "{hostile}" or open\n'
        f'  deny when user.id in list "{hostile}"\n  discount {{ value 1 off }} }}\n'
    )
    r, _ = compile_text(text, "hostile.promo")
    check_names(r)
    tree = ast.parse(r.generated_source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"exec", "open", "eval", "__import__", "os"}
    strings = {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    assert '__import__("os").system("true")' in strings


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.name if p else "big")
def test_source_text_is_the_module(path: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`generated_source` is the compiled module (`ast.unparse` would parenthesize it
    differently, several times slower)."""
    built: list[ast.Module] = []
    build = codegen.Generator.build

    def keep(self: codegen.Generator) -> tuple[dict[str, object], ast.Module]:
        namespace, module = build(self)
        built.append(module)
        return namespace, module

    monkeypatch.setattr(codegen.Generator, "build", keep)
    text = path.read_text(encoding="utf-8") if path else big_ruleset(60)
    source = compile_text(text, "s.promo")[0].generated_source
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(ast.unparse(built[-1])))
