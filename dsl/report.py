"""What every part of the checker shares: where diagnostics go, and the file's settings.

`Report` collects errors and warnings in any order (the checker sorts them at the end);
`Settings` holds what the header fixed for the rest of the file: the currency's minor
units and the timezone that dates and times are local to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dsl.errors import Diagnostic, Span, error, warning

UTC = ZoneInfo("UTC")


@dataclass(slots=True)
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, span: Span) -> None:
        self.diagnostics.append(error(message, span))

    def warn(self, message: str, span: Span) -> None:
        self.diagnostics.append(warning(message, span))


@dataclass(frozen=True, slots=True)
class Settings:
    """`currency` and `minor_units` are None when the header's currency is unknown, so
    that amounts are not also reported against a currency nobody meant."""

    currency: str | None = None
    minor_units: int | None = None
    tz: ZoneInfo = UTC


def keyword_span(span: Span, keyword: str) -> Span:
    """The span of the keyword a node starts with (`window`, `min spend`), so that the
    caret under an error covers the keyword rather than the whole item."""
    return Span(span.line, span.column, span.line, span.column + len(keyword), span.file)
