"""Check + compile of a large rule file (issue #2): 500 campaigns, ~230 KB, built by
repeating and renaming the spec examples. Goal: at most 1 s on this 2-core machine,
with the share of Lark's parse reported beside it.

    .venv/bin/python benchmarks/bench_compile.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.make_big_ruleset import make_big_ruleset
from benchmarks.report import median, stamp, timed, write_section
from dsl.checker import check_ruleset
from dsl.compiler import compile_ruleset, compile_text
from dsl.parser import parse_ruleset

REPEAT = 7


def main() -> None:
    text = make_big_ruleset(campaigns=500)
    size_kb = len(text.encode()) / 1024
    compile_text(text, "big.promo")  # warm: the grammar is built once per process
    tree = parse_ruleset(text, "big.promo")
    parse = median(timed(lambda: parse_ruleset(text, "big.promo"), REPEAT))
    check = median(timed(lambda: check_ruleset(tree), REPEAT))
    build = median(timed(lambda: compile_ruleset(tree, file="big.promo", source=text), REPEAT))
    total = median(timed(lambda: compile_text(text, "big.promo"), REPEAT))
    campaigns = len(tree.campaigns)
    verdict = "meets" if total <= 1.0 else "misses"
    rows = [
        ("parse (Lark LALR + tree)", parse),
        ("check", check),
        ("compile (model + generated code)", build),
        ("**check + compile, end to end**", total),
    ]
    table = "\n".join(f"| {name} | {s * 1000:,.0f} ms | {s / total:.0%} |" for name, s in rows)
    body = f"""## Compile: check + compile of {campaigns} campaigns ({size_kb:,.0f} KB)

{stamp()} `benchmarks/bench_compile.py`: the spec examples repeated and renamed
(`benchmarks/make_big_ruleset.py`), median of {REPEAT} runs after one warm-up run in the
same process. Goal: at most 1 s end to end; this run {verdict} it.

| stage | median | share of end to end |
|---|---|---|
{table}
"""
    write_section("compile", body)
    print(body)


if __name__ == "__main__":
    main()
