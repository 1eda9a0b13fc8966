"""The shared spec's compile-error cases and examples, through parse + check
(../shared/spec/cases/compile_errors.yaml, ../shared/spec/examples/*.promo)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic, RuleError
from dsl.parser import parse_ruleset

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
CASES: list[dict[str, Any]] = yaml.safe_load((SPEC / "cases" / "compile_errors.yaml").read_text())
EXAMPLES = sorted((SPEC / "examples").glob("*.promo"))


def diagnose(text: str, file: str = "<rules>") -> list[Diagnostic]:
    """Syntax errors from the parser, or the checker's diagnostics."""
    try:
        tree = parse_ruleset(text, file)
    except RuleError as exc:
        return exc.diagnostics
    return check_ruleset(tree)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_compile_error_case(case: dict[str, Any]) -> None:
    expect = case["expect_error"]
    wanted = expect["contains"] if isinstance(expect["contains"], list) else [expect["contains"]]
    errors = [d for d in diagnose(case["rules"]) if d.severity == "error"]
    assert any(
        d.span.line == expect["line"]
        and d.span.column == expect.get("column", d.span.column)
        and all(phrase in d.message for phrase in wanted)
        for d in errors
    ), [d.format() for d in errors]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_compile_error_case_has_one_error(case: dict[str, Any]) -> None:
    """Each case holds one mistake, so it gives one error."""
    errors = [d for d in diagnose(case["rules"]) if d.severity == "error"]
    assert len(errors) == 1, [d.format() for d in errors]


# The examples compile; these are the warnings they are known to give.
EXAMPLE_WARNINGS: dict[str, list[str]] = {}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_has_no_errors(path: Path) -> None:
    found = diagnose(path.read_text(encoding="utf-8"), path.name)
    assert [d.format() for d in found if d.severity == "error"] == []
    warnings = [d.format() for d in found if d.severity == "warning"]
    assert warnings == EXAMPLE_WARNINGS.get(path.name, [])


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 8
    assert len(CASES) == 12


TOKEN = re.compile(r'"[^"\n]*"|\d{4}-\d\d-\d\d|\d+:\d\d|\d+(?:\.\d+)?%?|[A-Za-z_][\w.]*')
SUBSTITUTES = {
    "number": ["0", "0.001", "101%", "99999999999999999999"],
    "date": ["2026-02-30", "9999-12-31", "0001-01-01"],
    "time": ["24:00", "23:59", "00:00"],
    "string": ['""', '"Mars/Olympus"', '"a b"'],
    "word": ["item", "user", "now", "list", "daily", "members", "item.qty", "cart.items", "x"],
}


def _kind(token: str) -> str:
    if token.startswith('"'):
        return "string"
    if re.fullmatch(r"\d{4}-.*", token):
        return "date"
    if ":" in token:
        return "time"
    return "number" if token[0].isdigit() else "word"


def test_checker_never_raises_on_mutated_examples() -> None:
    """Each parsable mutation of an example or a case is checked without an exception."""
    rng = random.Random(20261111)
    sources = [path.read_text(encoding="utf-8") for path in EXAMPLES]
    sources += [case["rules"] for case in CASES]
    checked = 0
    for _ in range(300):
        text = rng.choice(sources)
        for _ in range(rng.randint(1, 3)):
            match = rng.choice(list(TOKEN.finditer(text)))
            new = rng.choice(SUBSTITUTES[_kind(match.group())])
            text = text[: match.start()] + new + text[match.end() :]
        try:
            tree = parse_ruleset(text)
        except RuleError:
            continue
        check_ruleset(tree)
        checked += 1
    assert checked > 50


def _rules_in(node: object, case_file: Path) -> list[str]:
    """Every rule text of a conformance case file: `rules:` inline or `rules_file:`."""
    if isinstance(node, list):
        return [text for item in node for text in _rules_in(item, case_file)]
    if not isinstance(node, dict):
        return []
    found: list[str] = []
    for key, value in node.items():
        if key == "rules" and isinstance(value, str):
            found.append(value)
        elif key == "rules_file" and isinstance(value, str):
            found.append((case_file.parent / value).read_text(encoding="utf-8"))
        else:
            found.extend(_rules_in(value, case_file))
    return found


BEHAVIOUR_FILES = sorted(
    p for p in (SPEC / "cases").glob("*.yaml") if p.name != "compile_errors.yaml"
)


@pytest.mark.parametrize("case_file", BEHAVIOUR_FILES, ids=[p.stem for p in BEHAVIOUR_FILES])
def test_rules_of_behaviour_cases_have_no_errors(case_file: Path) -> None:
    texts = _rules_in(yaml.safe_load(case_file.read_text(encoding="utf-8")), case_file)
    for text in texts:
        found = [d.format() for d in diagnose(text) if d.severity == "error"]
        assert found == [], text
