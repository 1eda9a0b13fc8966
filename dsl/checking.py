"""`promo check`: compile files one by one, then load them together as an engine would.

Loading together adds the one cross-file error of LANGUAGE.md 11.2: a campaign id that
another file already declares (10.9).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsl.compiler import compile_text
from dsl.errors import Diagnostic, RuleError, Span, error
from dsl.model import CompiledRuleset
from dsl.sources import Source


@dataclass(slots=True)
class CheckReport:
    files: int = 0
    diagnostics: list[tuple[Diagnostic, str]] = field(default_factory=list)
    compiled: list[CompiledRuleset] = field(default_factory=list)  # of the files that compile

    @property
    def error_count(self) -> int:
        return sum(1 for d, _ in self.diagnostics if d.severity == "error")

    @property
    def warning_count(self) -> int:
        return len(self.diagnostics) - self.error_count

    def items(self) -> Iterator[tuple[Diagnostic, str]]:
        return iter(self.diagnostics)

    def summary(self) -> str:
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        return f"checked {files}: {self.error_count} errors, {self.warning_count} warnings"

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "diagnostics": [d.to_json() for d, _ in self.diagnostics],
        }


def check_files(sources: Sequence[Source]) -> CheckReport:
    report = CheckReport(files=len(sources))
    owners: dict[str, str] = {}
    for source in sources:
        name = str(source.path)
        try:
            compiled, warnings = compile_text(source.text, name)
        except RuleError as exc:
            report.diagnostics.extend((d, source.text) for d in exc.diagnostics)
            continue
        report.compiled.append(compiled)
        found = list(warnings) + _duplicates(compiled, owners)
        report.diagnostics.extend((d, source.text) for d in sorted(found, key=lambda d: d.sort_key))
    return report


def _duplicates(compiled: CompiledRuleset, owners: dict[str, str]) -> list[Diagnostic]:
    problems = []
    for campaign in compiled.campaigns:
        owner = owners.setdefault(campaign.id, compiled.file)
        if owner != compiled.file:
            line, column = compiled.positions.get(campaign.id, (1, 1))
            span = Span(line, column, line, column + len(campaign.id), compiled.file)
            problems.append(
                error(f"duplicate campaign '{campaign.id}' (already loaded from {owner})", span)
            )
    return problems
