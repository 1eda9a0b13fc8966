"""Positions and diagnostics: every message the compiler gives names a file, line and column.

A `Diagnostic` is one error or warning (LANGUAGE.md 11.1). `RuleError` is raised when a
file cannot be compiled and carries every diagnostic found, sorted by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A region of a rule file. Lines and columns are 1-based; `end_column` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    file: str = field(default="<rules>", compare=False)

    @staticmethod
    def point(file: str, line: int, column: int) -> Span:
        return Span(line, column, line, column + 1, file)

    def through(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return Span(self.line, self.column, other.end_line, other.end_column, self.file)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    message: str
    span: Span

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return (self.span.line, self.span.column, 0 if self.severity == "error" else 1)

    def format(self) -> str:
        """`FILE:LINE:COLUMN: error: MESSAGE`, the one-line form of LANGUAGE.md 11.1."""
        s = self.span
        return f"{s.file}:{s.line}:{s.column}: {self.severity}: {self.message}"

    def render(self, source: str) -> str:
        """The one-line form, then the source line with a caret under the span."""
        lines = source.split("\n")  # LANGUAGE.md 2.1: only \n ends a line
        head = self.format()
        s = self.span
        if not 1 <= s.line <= len(lines):
            return head
        text = lines[s.line - 1].replace("\t", " ")
        width = (s.end_column - s.column) if s.end_line == s.line else len(text) - s.column + 1
        gutter = f"{s.line:>5} | "
        caret = " " * (len(gutter) - 2) + "| " + " " * (s.column - 1) + "^" * max(1, width)
        return f"{head}\n{gutter}{text}\n{caret}"

    def to_json(self) -> dict[str, object]:
        s = self.span
        return {
            "file": s.file,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "severity": self.severity,
            "message": self.message,
        }


def error(message: str, span: Span) -> Diagnostic:
    return Diagnostic("error", message, span)


def warning(message: str, span: Span) -> Diagnostic:
    return Diagnostic("warning", message, span)


class RuleError(Exception):
    """A rule file that does not compile; `diagnostics` holds every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: d.sort_key)
        first = self.diagnostics[0].format() if self.diagnostics else "rule error"
        more = len(self.errors) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]
