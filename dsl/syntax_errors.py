"""Lark's exceptions to our diagnostics (LANGUAGE.md 11.2): the one place where Lark's
`UnexpectedInput` becomes a `Diagnostic`, with the phrases of a syntax error
("unexpected ...; expected ...", "did you mean ...").

>>> from dsl.parser import parse_ruleset
>>> try:
...     parse_ruleset('ruleset "r" timezone "UTC" currency CNY campaign c { windw }')
... except RuleError as exc:
...     print(exc.diagnostics[0].message)
syntax error: unexpected 'windw'; did you mean 'window'?
"""

from __future__ import annotations

from collections.abc import Iterable

from lark import Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl.errors import Diagnostic, RuleError, Span, error
from dsl.vocabulary import KEYWORDS

__all__ = ["fail", "shown", "token_span", "translate"]

# Terminal names in plain words, for "; expected ...".
_WORDS = {
    "NAME": "a name", "STRING": "a string", "INT": "a whole number",
    "DECIMAL": "a decimal number", "PERCENT": "a percentage", "DURATION": "a duration",
    "DATE": "a date", "TIME": "a time", "$END": "end of file",
}  # fmt: skip
_SYMBOLS = {
    "DOTDOT": "..", "DOT": ".", "EQ": "==", "NE": "!=", "LE": "<=", "GE": ">=", "LT": "<",
    "GT": ">", "ASSIGN": "=", "PLUS": "+", "MINUS": "-", "STAR": "*", "COLON": ":",
    "COMMA": ",", "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{",
    "RBRACE": "}",
}  # fmt: skip
# Where one of these sets is expected, one phrase says it better than a long list.
_OPERAND_START = frozenset(
    "NAME INT DECIMAL STRING DURATION DATE LPAR LSQB MINUS NOT ANY ALL COUNT SUM LIST "
    "TRUE FALSE".split()
)
_CAMPAIGN_ITEMS = frozenset(
    "TIER GOAL WINDOW DAILY WEEKLY MONTHLY WHEN DENY PRIORITY GROUP STAGE REFERRAL LIMIT "
    "BUDGET DISCOUNT COUPON PACK LOTTERY".split()
)
_MAX_LISTED = 6


def fail(message: str, span: Span) -> RuleError:
    """The error that stops a parse: one diagnostic."""
    return RuleError([error(message, span)])


def token_span(t: Token, file: str) -> Span:
    # Lark types token positions as optional; the lexer always sets them.
    return Span(t.line, t.column, t.end_line, t.end_column, file)  # type: ignore[arg-type]


def translate(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    """The diagnostic of a lexical or syntax error Lark raised while parsing `text`."""
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        return error(f"invalid token '{shown(char)}'", Span.point(file, exc.line, exc.column))
    expected = _acceptable(exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return _unexpected(exc.token, expected, file)
    return _end_of_file(exc, expected, file)


def _acceptable(exc: UnexpectedInput) -> set[str]:
    """The terminals that can really come next. Lark's `expected` is the LALR state's
    lookahead set, which merges the follow sets of every context the state serves (`)`
    after `when a`); `accepts()` tries each one on a copy of the parser, without calling
    the transformer."""
    parser = getattr(exc, "interactive_parser", None)
    fallback: set[str] = set(getattr(exc, "expected", None) or ())
    if parser is None:
        return fallback
    try:
        return set(parser.accepts())
    except Exception:  # only a hint: never let it hide the error being reported
        return fallback


def _unexpected(token: Token, expected: set[str], file: str) -> Diagnostic:
    span = token_span(token, file)
    if token.type in ("BAD_NUMBER", "BAD_STRING"):
        return error(f"invalid token '{shown(token.value)}'", span)
    message = f"syntax error: unexpected '{shown(token.value)}'"
    if token.type == "ASSIGN" and "EQ" in expected:
        return error(f"{message}; did you mean '=='?", span)
    keyword = _close_keyword(token, expected)
    if keyword:
        return error(f"{message}; did you mean '{keyword}'?", span)
    return error(message + _expected_phrase(expected), span)


def _end_of_file(exc: UnexpectedInput, expected: set[str], file: str) -> Diagnostic:
    """At the position just after the last token; 1:1 when the file has none."""
    token = getattr(exc, "token", None)
    line, column = 1, 1
    if token is not None and token.end_line is not None and token.end_column is not None:
        line, column = token.end_line, token.end_column
    message = "syntax error: unexpected end of file" + _expected_phrase(expected)
    return error(message, Span.point(file, line, column))


def _expected_phrase(expected: Iterable[str]) -> str:
    names = set(expected)
    if len(names) > 1:
        names.discard("$END")  # "end of file" only helps when nothing else would do
    phrases: list[str] = []
    for group, phrase in ((_OPERAND_START, "an expression"), (_CAMPAIGN_ITEMS, "a campaign item")):
        if names >= group:
            phrases.append(phrase)
            names -= group
    phrases += sorted((_describe(n) for n in names), key=_rank)
    if not phrases:
        return ""
    if len(phrases) > _MAX_LISTED:
        return "; expected " + ", ".join(phrases[:_MAX_LISTED]) + ", …"
    last = phrases.pop()
    return "; expected " + (", ".join(phrases) + " or " if phrases else "") + last


def _rank(phrase: str) -> tuple[int, str]:
    """Kinds of token (`a name`) first, then keywords, then symbols."""
    if not phrase.startswith("'"):
        return 0, phrase
    return (1 if phrase[1].isalpha() else 2), phrase


def _describe(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    if terminal in _SYMBOLS:
        return f"'{_SYMBOLS[terminal]}'"
    return f"'{terminal.lower()}'"  # a keyword: Lark names it by its upper-cased text


def _close_keyword(token: Token, expected: set[str]) -> str | None:
    """The expected keyword a misspelt word most likely meant (`windw` -> `window`)."""
    if token.type != "NAME":
        return None
    word = token.value
    candidates = sorted(n.lower() for n in expected if n.lower() in KEYWORDS)
    best = min(candidates, key=lambda k: _distance(word, k), default=None)
    if best is None or _distance(word, best) > max(1, min(2, len(best) // 3)):
        return None
    return best


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def shown(text: str, limit: int = 40) -> str:
    """Token text for a message: control characters escaped, long text shortened."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
