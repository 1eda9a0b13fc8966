"""The conformance runner behind `promo cases DIR` (../shared/spec/CASES.md section 1).

Each case gets a fresh engine on an empty store (its own key prefix on Redis, dropped
afterwards), a fixed clock that only `at` steps move, and the case's rules. Steps run in
order; the first that fails ends its case with one `FAIL <file> [<name>]: <reason>` line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dsl.errors import RuleError
from engine.case_checks import CaseFormatError, StepFailure
from engine.case_steps import run_steps
from engine.clock import FixedClock
from engine.engine import Engine
from engine.store.open import open_store


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    name: str
    failure: str | None  # None when the case passed


@dataclass(frozen=True, slots=True)
class Case:
    file: Path
    name: str
    body: dict[str, Any]


def find_case_files(root: Path) -> list[Path]:
    """Every `*.yaml` under `root`, recursively, in sorted path order."""
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def load_cases(path: Path) -> Iterator[Case | CaseResult]:
    """The cases of one file; a file that is not valid YAML or not a case (list) is one
    failed case, so that the run goes on."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        yield CaseResult(str(path), path.name, f"not valid YAML: {_one_line(exc)}")
        return
    items = data if isinstance(data, list) else [data]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            yield CaseResult(str(path), f"#{index + 1}", "a case must be a YAML mapping")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            yield CaseResult(str(path), f"#{index + 1}", "the case has no 'name'")
            continue
        yield Case(path, name, item)


async def run_case(case: Case, store_url: str) -> CaseResult:
    """Run one case on a fresh store and engine; never raises for a case's own faults."""
    try:
        failure = await _run(case, store_url)
    except CaseFormatError as exc:
        failure = f"case format: {exc}"
    except StepFailure as exc:
        failure = str(exc)
    return CaseResult(str(case.file), case.name, failure)


async def _run(case: Case, store_url: str) -> str | None:
    body = case.body
    source, source_name = _rules_of(case)
    if "expect_error" in body:
        return _check_expected_error(source, source_name, body["expect_error"])
    steps = body.get("steps")
    if not isinstance(steps, list):
        raise CaseFormatError("a case needs 'steps' (or 'expect_error')")
    from dsl.compiler import compile_text

    try:
        compiled, _warnings = compile_text(source, source_name)
    except RuleError as exc:
        return f"rules do not compile: {exc.errors[0].format() if exc.errors else exc}"
    seed = body.get("seed")
    if seed is not None and not isinstance(seed, int):
        raise CaseFormatError("'seed' must be an integer")
    prefix = f"promo-cases:{uuid.uuid4().hex[:12]}:"
    store = open_store(store_url, prefix=prefix, timeout=5.0)
    clock = FixedClock(0)
    engine = Engine(store, clock, seed=seed)
    try:
        await engine.load(compiled)
        await run_steps(engine, clock, steps)
    finally:
        await store.drop()
        await store.close()
    return None


def _rules_of(case: Case) -> tuple[str, str]:
    body = case.body
    if isinstance(body.get("rules"), str):
        return body["rules"], f"{case.file.name}[{case.name}]"
    rules_file = body.get("rules_file")
    if isinstance(rules_file, str):
        path = (case.file.parent / rules_file).resolve()
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise CaseFormatError(f"cannot read rules_file {rules_file}: {_one_line(exc)}") from exc
    raise CaseFormatError("a case needs 'rules' or 'rules_file'")


def _check_expected_error(source: str, name: str, expected: Any) -> str | None:
    if not isinstance(expected, dict) or not isinstance(expected.get("line"), int):
        raise CaseFormatError("'expect_error' needs at least 'line'")
    from dsl.compiler import compile_text

    try:
        compile_text(source, name)
    except RuleError as exc:
        errors = exc.errors
    else:
        return "expected a compile error, but the rules compiled"
    wanted = expected.get("contains", [])
    phrases = [wanted] if isinstance(wanted, str) else list(wanted)
    for diagnostic in errors:
        span = diagnostic.span
        if span.line != expected["line"]:
            continue
        if "column" in expected and span.column != expected["column"]:
            continue
        if all(p in diagnostic.message for p in phrases):
            return None
    where = f"{expected['line']}:{expected.get('column', '*')}"
    found = "; ".join(f"{d.span.line}:{d.span.column}: {d.message}" for d in errors[:5])
    return f"expected an error at {where} containing {phrases!r}; got: {found}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


async def run_cases(
    root: Path, store_url: str, report: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    """Run every case under `root` in sorted order; `report` sees each result as it ends.
    Raises StoreUnavailable before any case when the store cannot be reached."""
    probe = open_store(store_url, prefix="promo-cases:probe:", timeout=5.0)
    try:
        await probe.ping()
    finally:
        await probe.close()
    results: list[CaseResult] = []
    for path in find_case_files(root):
        for item in load_cases(path):
            result = item if isinstance(item, CaseResult) else await run_case(item, store_url)
            results.append(result)
            if report is not None:
                report(result)
    return results


def summary(results: Sequence[CaseResult]) -> str:
    failed = sum(1 for r in results if r.failure is not None)
    return f"{len(results) - failed} passed, {failed} failed"
