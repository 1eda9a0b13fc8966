"""Lark tokens to spans and leaf values (LANGUAGE.md 2.4): names, strings with their
escapes, whole and decimal numbers, percentages, durations, dates and times.

`TokenReader` is the base of the tree builder (builder.py): it holds the per-parse state
and turns the tokens of a grammar rule into leaf nodes. A bad escape or an overlong
number stops the parse; invalid dates and times do not: they become
`DateLit(value=None)` and `TimeLit(seconds=None)`, which the checker reports.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from lark import Token

from dsl import ast
from dsl.errors import Span
from dsl.syntax_errors import fail, shown, token_span

__all__ = ["MAX_NUMBER_DIGITS", "TokenReader", "digits_ok", "string_value"]

# Longer numbers are never meant, and Python refuses int() on very long digit strings.
MAX_NUMBER_DIGITS = 100

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class TokenReader:
    """Spans and leaf nodes of the tokens of one parse, in the file being parsed."""

    def __init__(self) -> None:
        self.begin("<rules>")

    # per-parse state; `parse_ruleset` holds the lock while it is in use
    def begin(self, file: str) -> None:
        self.file = file
        self.comments: list[ast.Comment] = []

    def finish(self) -> None:
        self.begin("<rules>")  # drop references to the last tree

    def comment(self, t: Token) -> Token:
        text = t.value
        self.comments.append(ast.Comment(self.span(t), text))
        return t

    # spans (Lark types token positions as optional; the lexer always sets them)
    def span(self, t: Token) -> Span:
        return Span(t.line, t.column, t.end_line, t.end_column, self.file)  # type: ignore[arg-type]

    def tok_to(self, t: Token, last: Token | ast.Node) -> Span:
        """From the start of token `t` to the end of `last`."""
        end = last.span if isinstance(last, ast.Node) else self.span(last)
        line, column = t.line, t.column
        return Span(line, column, end.end_line, end.end_column, self.file)  # type: ignore[arg-type]

    # leaf values
    def name(self, t: Token) -> ast.Name:
        return ast.Name(self.span(t), t.value)

    def str_(self, t: Token) -> ast.Str:
        return ast.Str(self.span(t), string_value(t, self.file))

    def int_(self, t: Token) -> ast.Int:
        digits_ok(t, self.file)
        return ast.Int(self.span(t), int(t.value))

    def number_of(self, t: Token) -> ast.Number:
        digits_ok(t, self.file)
        return ast.Number(self.span(t), Decimal(t.value), t.value)

    def duration_of(self, t: Token) -> ast.Duration:
        digits_ok(t, self.file)
        text: str = t.value
        return ast.Duration(self.span(t), int(text[:-1]) * _DURATION_UNITS[text[-1]], text)

    def date_of(self, t: Token) -> ast.DateLit:
        return ast.DateLit(self.span(t), t.value, _date_value(t.value))

    def time_of(self, t: Token) -> ast.TimeLit:
        return ast.TimeLit(self.span(t), t.value, _time_value(t.value), t.value.count(":") == 2)

    def opt_str(self, t: Token | None) -> ast.Str | None:
        return None if t is None else self.str_(t)

    def amount_of(self, t: Token) -> ast.Number | ast.Percent:
        """`(INT | DECIMAL | PERCENT)` in the grammar: an amount (LANGUAGE.md 12)."""
        if t.type != "PERCENT":
            return self.number_of(t)
        digits_ok(t, self.file)
        return ast.Percent(self.span(t), Decimal(t.value[:-1]), t.value)

    def datetime_of(self, date: Token, time: Token | None) -> ast.DateTime:
        """`DATE [TIME]` in the grammar: a local date-time."""
        span = self.tok_to(date, time or date)
        return ast.DateTime(span, self.date_of(date), None if time is None else self.time_of(time))


def digits_ok(t: Token, file: str) -> None:
    """Stop the parse at a number longer than MAX_NUMBER_DIGITS."""
    if len(t.value) > MAX_NUMBER_DIGITS:
        raise fail(
            f"number is too long (more than {MAX_NUMBER_DIGITS} digits)", token_span(t, file)
        )


def string_value(t: Token, file: str) -> str:
    """A STRING token's text without quotes, escapes decoded; a bad escape is an error."""
    body: str = t.value[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1]  # the token's pattern guarantees a character after `\`
            if nxt not in _ESCAPES:
                line, column = t.line or 1, (t.column or 1) + 1 + i
                span = Span(line, column, line, column + 2, file)
                raise fail(f"invalid escape '\\{shown(nxt)}' in string", span)
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _date_value(text: str) -> dt.date | None:
    m = _DATE.fullmatch(text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _time_value(text: str) -> int | None:
    h, m, *s = (int(part) for part in text.split(":"))
    sec = s[0] if s else 0
    return h * 3600 + m * 60 + sec if h < 24 and m < 60 and sec < 60 else None
