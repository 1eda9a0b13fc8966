"""Names a file declares: reserved words (LANGUAGE.md 2.3) and duplicates (11.2).

Keywords cannot name a segment, campaign, reward, prize, group or declared attribute;
context roots cannot name a segment, since a bare name in an expression would then be
ambiguous. The parser accepts both (keywords are contextual), so the checker reports them.
"""

from __future__ import annotations

from dsl.ast import Name
from dsl.report import Report
from dsl.vocabulary import KEYWORDS, ROOTS


def check_reserved(name: Name, report: Report, *, kind: str) -> bool:
    """True when `name` may name a `kind` (segment, campaign, reward, …)."""
    if name.text in KEYWORDS:
        report.error(f"'{name.text}' is a keyword and cannot be used as a name", name.span)
        return False
    if kind == "segment" and name.text in ROOTS:
        report.error(f"'{name.text}' is a context root and cannot name a segment", name.span)
        return False
    return True


class Registry:
    """Declarations of one kind within one scope, reporting the second of a name:
    `duplicate campaign 'flash' (first declared at line 5)`."""

    def __init__(self, kind: str, report: Report) -> None:
        self.kind = kind
        self.report = report
        self.first: dict[str, Name] = {}

    def add(self, name: Name, text: str | None = None) -> bool:
        """Record `name` (or `text`, for `user.city`); False when it was declared before."""
        key = name.text if text is None else text
        first = self.first.get(key)
        if first is not None:
            self.report.error(
                f"duplicate {self.kind} '{key}' (first declared at line {first.span.line})",
                name.span,
            )
            return False
        self.first[key] = name
        return True

    def __contains__(self, key: str) -> bool:
        return key in self.first
