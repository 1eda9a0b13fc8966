"""Build one large, valid rule file from the spec examples, for parse and compile timing.

The declarations (segments and campaigns, with their comments) of every file in
`../shared/spec/examples` are repeated round-robin under a single header until the
requested number of campaigns is reached. Copy `k` of example `e` (a letter) renames
that example's segments and campaigns to `NAME_ek` (also where they are used), so every
name is unique; the `context` blocks of all examples are merged into one.

    python benchmarks/make_big_ruleset.py > /tmp/big.promo      # 500 campaigns, ~230 KB

    from benchmarks.make_big_ruleset import make_big_ruleset
    text = make_big_ruleset(campaigns=500)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples"

_HEADER = 'ruleset "big-{campaigns}"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'
_DECL = re.compile(r"^(segment|campaign)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_CONTEXT = re.compile(r"^context\s*\{(.*?)^\}", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class _Example:
    body: str  # the declarations, after the header and the context block
    names: tuple[str, ...]  # segments and campaigns it declares
    campaigns: int


def _load(path: Path) -> tuple[_Example, list[str]]:
    text = path.read_text(encoding="utf-8")
    attrs: list[str] = []
    context = _CONTEXT.search(text)
    if context:
        attrs = [line.strip() for line in context.group(1).splitlines() if line.strip()]
        text = text[context.end() :]
    first = _DECL.search(text)
    body = text[first.start() :] if first else ""
    names = tuple(m.group(2) for m in _DECL.finditer(body))
    campaigns = sum(1 for m in _DECL.finditer(body) if m.group(1) == "campaign")
    return _Example(body, names, campaigns), attrs


def _renamed(example: _Example, tag: str) -> str:
    if not example.names:
        return example.body
    words = re.compile(r"\b(" + "|".join(map(re.escape, example.names)) + r")\b")
    return words.sub(lambda m: f"{m.group(1)}_{tag}", example.body)


def make_big_ruleset(campaigns: int = 500, examples_dir: Path = EXAMPLES) -> str:
    """A valid ruleset with `campaigns` campaigns (and their segments), all names unique."""
    examples: list[_Example] = []
    attrs: dict[str, str] = {}
    for path in sorted(examples_dir.glob("*.promo")):
        example, decls = _load(path)
        examples.append(example)
        for decl in decls:
            attrs.setdefault(decl.split(":", 1)[0].strip(), decl)
    parts = [_HEADER.format(campaigns=campaigns)]
    if attrs:
        parts.append("context {\n" + "".join(f"    {a}\n" for a in attrs.values()) + "}\n")
    total, copy = 0, 0
    while total < campaigns:
        for index, example in enumerate(examples):
            if total + example.campaigns > campaigns:
                continue
            # Several examples declare the same segment (`risky`): tag by example and copy.
            parts.append(_renamed(example, f"{chr(ord('a') + index)}{copy}"))
            total += example.campaigns
        copy += 1
        if all(total + e.campaigns > campaigns for e in examples) and total < campaigns:
            break  # no whole example fits in what is left: stop just short
    return "\n".join(parts)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    sys.stdout.write(make_big_ruleset(count))
