"""Rule text to syntax tree (LANGUAGE.md 2, 3, 5, 12); Lark's errors become ours here only.

>>> tree = parse_ruleset('ruleset "r" timezone "UTC" currency CNY', "r.promo")
>>> tree.header.currency.text
'CNY'

The grammar (grammar.lark) runs on Lark's LALR parser with the contextual lexer, which
makes keywords contextual (2.3). The tree is built while parsing by an inline
transformer (`_Builder`), so no parse tree is made, and every span comes from tokens
(no `propagate_positions`). The Lark object is built once per process, from a cache, with
a faster drop-in for Lark's token and parser loops (same tables, scanners and errors).

Errors: a lexical or syntax error stops the parse with one diagnostic (11.2). Invalid
dates and times are not errors here: they become `DateLit(value=None)` and
`TimeLit(seconds=None)`, so that the checker reports them with every other error.

Resource bounds (vocabulary.py): a file over MAX_FILE_BYTES of UTF-8, an expression
deeper than MAX_NESTING and more than MAX_CAMPAIGNS campaigns are each one error.
Nesting is the depth of the expression tree: each operator (binary or prefix), pair of
parentheses, list literal and any/all/count/sum is one level around its operands, so a
chain `a or b or c` is two levels. The tree is then never deeper than MAX_NESTING
constructs, and code that walks it recursively stays far from Python's recursion limit.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule
from lark.lark import PostLex
from lark.lexer import BasicLexer, ContextualLexer, LexerState, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser import LALR_Parser, _Parser
from lark.parsers.lalr_parser_state import ParserState

from dsl import ast
from dsl.errors import Diagnostic, RuleError, Span, error
from dsl.vocabulary import KEYWORDS, MAX_CAMPAIGNS, MAX_FILE_BYTES, MAX_NESTING

__all__ = ["parse_ruleset"]

# Terminals scanned in every parser state (see grammar.lark): all but the keywords, which
# must stay out (LIST too: `user.list` is a path). A test keeps this list complete.
_ALWAYS = (
    "NAME", "STRING", "BAD_STRING", "DATE", "TIME", "PERCENT", "DURATION", "BAD_NUMBER",
    "DECIMAL", "INT", "MINUS", "DOTDOT", "DOT", "EQ", "NE", "LE", "GE", "LT", "GT",
    "ASSIGN", "PLUS", "STAR", "COLON", "COMMA", "LPAR", "RPAR", "LSQB", "RSQB", "LBRACE",
    "RBRACE",
)  # fmt: skip

# Longer numbers are never meant, and Python refuses int() on very long digit strings.
MAX_NUMBER_DIGITS = 100

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_COMPARE_OPS: dict[str, ast.CompareOp] = {
    "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "in",
    "not in": "not in",
}  # fmt: skip
_ARITH_OPS: dict[str, ast.ArithOp] = {"+": "+", "-": "-", "*": "*"}

N = TypeVar("N", bound=ast.Node)


# --- the Lark object, built once -----------------------------------------------------------


class _AlwaysAccept(PostLex):
    """Only here for `always_accept`: Lark adds these terminals to every state's scanner."""

    always_accept = _ALWAYS

    def process(self, stream: Any) -> Any:
        return stream


_lock = threading.Lock()
_parsers: dict[bool, tuple[Lark, _Builder]] = {}


def _cache_path() -> str | bool:
    """A per-user cache of the analysed grammar (Lark pickles it). Not the shared temp
    directory Lark would pick, where another user could plant a pickle."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "promo-engine"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False  # no writable cache: build the tables each time (~0.25 s)
    return str(folder / "grammar.lark-cache")


def _parser(fast: bool = True) -> tuple[Lark, _Builder]:
    """The Lark object and its transformer, built on first use; call with `_lock` held.
    `fast=False` is Lark's stock runtime, which the tests compare the fast one with."""
    if fast not in _parsers:
        builder = _Builder()
        grammar = resources.files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
        lark = Lark(
            grammar,
            parser="lalr",
            lexer="contextual",
            transformer=builder,
            postlex=_AlwaysAccept(),
            lexer_callbacks={"COMMENT": builder.comment},
            maybe_placeholders=True,
            cache=_cache_path(),
            _plugins=_FAST_RUNTIME if fast else {},
        )
        _parsers[fast] = (lark, builder)
    return _parsers[fast]


# --- a faster runtime for Lark's LALR parser and contextual lexer ---------------------------
#
# Lark's own loops spend most of a parse in Python-level bookkeeping: for each token a few
# method calls to scan, build the Token and count lines; for each reduction a lookup keyed
# by a Rule object (its __hash__ and __eq__ are Python methods) and another keyed by a
# Token. These two classes run the same algorithm with the same tables, scanners and
# exceptions, plugged in through Lark's `_plugins` option: each state's scanner is still
# the one Lark's ContextualLexer builds from the terminals that state accepts (so
# keywords stay contextual), and every error is raised by Lark's own code, on the same
# state. They halve the parse time (see docs/language.md); the tests run the examples and
# the fuzz inputs through both runtimes and compare the results.

_make_token = str.__new__


class _FastBasicLexer(BasicLexer):
    """One state's scanner. `next_token` inlines Lark's loop: one regex match per token
    or run of whitespace, line counting on local variables, Token built in place, and the
    keyword check (Lark's UnlessCallback) as a dict lookup."""

    # (match of the state's one regex, keyword tables of UnlessCallbacks, other callbacks)
    _fast: tuple[Callable[..., Any], dict[str, dict[str, str]], dict[str, Any]] | None = None
    _stock = False  # set when this Lark's scanner is not what `_prepare` expects

    def _prepare(self) -> bool:
        try:
            scanner = self.scanner  # also builds self.callback
            if len(scanner._mres) != 1:  # over 100 terminals, several regexes: Lark's loop
                return False
            keywords: dict[str, dict[str, str]] = {}
            others: dict[str, Any] = {}
            for type_, callback in self.callback.items():
                terms = callback.scanner.terminals if isinstance(callback, UnlessCallback) else ()
                if terms and all(t.pattern.type == "str" and not t.pattern.flags for t in terms):
                    keywords[type_] = {t.pattern.value: t.name for t in terms}
                else:
                    others[type_] = callback
            self._fast = (scanner._mres[0].match, keywords, others)
        except AttributeError:  # another Lark version: its own loop is always right
            return False
        return True

    def next_token(self, lex_state: LexerState, parser_state: Any = None) -> Token:
        fast = self._fast
        if fast is None:
            if self._stock or not self._prepare():
                self._stock = True
                return super().next_token(lex_state, parser_state)
            fast = self._fast
            assert fast is not None
        match, keywords, callbacks = fast
        ignore, newlines = self.ignore_types, self.newline_types
        counter, text = lex_state.line_ctr, lex_state.text
        source, end = text.text, text.end
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        token: Token | None = None
        while pos < end:
            m = match(source, pos, end)
            if m is None:
                break
            kind: str = m.lastgroup
            new_pos = m.end()
            start_line, column = line, pos - line_start + 1
            if kind in newlines and (count := source.count("\n", pos, new_pos)):
                line += count
                line_start = source.rindex("\n", pos, new_pos) + 1
            if kind in ignore and kind not in callbacks:
                pos = new_pos
                continue
            value = m.group()
            t = _make_token(Token, value)
            t.type = keywords[kind].get(value, kind) if kind in keywords else kind
            t.value, t.start_pos, t.end_pos = value, pos, new_pos
            t.line, t.column = start_line, column
            t.end_line, t.end_column = line, new_pos - line_start + 1
            if kind in callbacks:
                t = callbacks[kind](t)
            pos = new_pos
            if kind not in ignore:
                token = t
                break
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        if token is not None:
            lex_state.last_token = token
            return token
        if pos < end:  # no terminal matches here: Lark's loop raises UnexpectedCharacters
            return super().next_token(lex_state, parser_state)
        raise EOFError(self)


class _FastContextualLexer(ContextualLexer):
    BasicLexer = _FastBasicLexer

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        lexers, stack = self.lexers, parser_state.state_stack
        try:
            while True:
                yield lexers[stack[-1]].next_token(lexer_state, parser_state)
        except EOFError:
            pass
        except UnexpectedCharacters:
            # Lark's handling: re-scan with the root lexer to tell a token the state does
            # not take (UnexpectedToken) from a character no terminal matches.
            yield from super().lex(lexer_state, parser_state)


# A reduction in the fast table: (children, callback or None, rule name). None marks a
# `?rule` that passes its one child through: the value stays, only the state changes.
_Reduce = tuple[int, Callable[[list[Any]], Any] | None, str]


class _FastLoop(_Parser):
    """Lark's LALR driver over a table keyed by plain strings, built once."""

    _table: list[dict[str, tuple[bool, Any]]] | None = None

    def _build_table(self) -> list[dict[str, tuple[bool, Any]]]:
        states = self.parse_table.states
        table: list[dict[str, tuple[bool, Any]]] = [{} for _ in range(max(states) + 1)]
        for state, row in states.items():
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    table[state][str(symbol)] = (True, arg)
                else:
                    table[state][str(symbol)] = (False, self._reduction(arg))
        self._table = table
        return table

    def _reduction(self, rule: Rule) -> _Reduce:
        size, first = len(rule.expansion), rule.expansion[0] if rule.expansion else None
        passes_through = (
            rule.options.expand1
            and size == 1
            and not rule.alias
            and first is not None
            and not first.is_term
            and not first.name.startswith("_")
        )
        # Lark types the callbacks as keyed by str; rules are keys too.
        callbacks = cast(dict[Rule, Callable[[list[Any]], Any]], self.callbacks)
        callback = None if passes_through else callbacks[rule]
        return size, callback, str(rule.origin.name)

    def parse_from_state(self, state: ParserState[Any], last_token: Token | None = None) -> Any:
        if any(isinstance(key, str) for key in self.callbacks):
            # Callbacks on tokens (a transformer method named like a terminal) are applied
            # by Lark's loop only; the builder has none.
            return super().parse_from_state(state, last_token)
        table = self._table or self._build_table()
        states, values = state.state_stack, state.value_stack
        token = last_token
        try:
            tokens: Iterator[Token] = state.lexer.lex(state)  # type: ignore[no-untyped-call]
            for token in tokens:
                kind = token.type
                while True:
                    step = table[states[-1]].get(kind)
                    if step is None:
                        _reject(state, token)
                    shift, arg = step
                    if shift:
                        states.append(arg)
                        values.append(token)
                        break
                    size, callback, name = arg
                    if callback is None:
                        states.pop()
                    else:
                        children = values[-size:] if size else []
                        if size:
                            del states[-size:]
                            del values[-size:]
                        values.append(callback(children))
                    states.append(table[states[-1]][name][1])
            end = Token.new_borrow_pos("$END", "", token) if token else Token("$END", "", 0, 1, 1)
            return state.feed_token(end, True)
        except UnexpectedInput as exc:
            exc.interactive_parser = InteractiveParser(self, state, state.lexer)
            raise


def _reject(state: ParserState[Any], token: Token) -> NoReturn:
    """Raise Lark's UnexpectedToken for a token the state has no action for."""
    state.feed_token(token)
    raise AssertionError(f"parser state accepted {token.type}")  # feed_token raised above


class _FastLALR(LALR_Parser):
    def __init__(self, parser_conf: Any, debug: bool = False, strict: bool = False) -> None:
        super().__init__(parser_conf, debug, strict)
        self.parser = _FastLoop(self._parse_table, parser_conf.callbacks, debug)

    @classmethod
    def deserialize(  # type: ignore[override]  # Lark's own signature, from the cache
        cls, data: Any, memo: Any, callbacks: Any, debug: bool = False
    ) -> Any:
        inst = super().deserialize(data, memo, callbacks, debug)  # type: ignore[no-untyped-call]
        inst.parser = _FastLoop(inst._parse_table, callbacks, debug)
        return inst


_FAST_RUNTIME = {"ContextualLexer": _FastContextualLexer, "LALR_Parser": _FastLALR}


# --- public API ------------------------------------------------------------------------------


def parse_ruleset(text: str, file: str = "<rules>") -> ast.Ruleset:
    """Parse one rule file into its syntax tree.

    Raises `RuleError` with one diagnostic for a lexical or syntax error or a resource
    bound; names, types and values are the checker's. Thread-safe: parses one at a time
    (a parse holds the GIL anyway).

    >>> parse_ruleset('ruleset "r" timezone "UTC" currency CNY').decls
    ()
    """
    return _parse(text, file, fast=True)


def _parse(text: str, file: str, *, fast: bool) -> ast.Ruleset:
    if _utf8_size(text) > MAX_FILE_BYTES:
        raise _fail(f"file is larger than {MAX_FILE_BYTES >> 20} MiB", Span.point(file, 1, 1))
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte order mark is not part of the text an editor shows
    with _lock:
        lark, builder = _parser(fast)
        builder.begin(file)
        # Nearly everything a parse allocates lives on in the tree (tokens die by their
        # reference count): the cyclic collector would only rescan it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            tree = cast(ast.Ruleset, lark.parse(text))
        except UnexpectedInput as exc:
            raise RuleError([_translate(exc, text, file)]) from None
        finally:
            builder.finish()
            if collecting:
                gc.enable()
    return tree


def _utf8_size(text: str) -> int:
    if len(text) * 4 <= MAX_FILE_BYTES:  # at most 4 bytes a character: no need to encode
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _fail(message: str, span: Span) -> RuleError:
    return RuleError([error(message, span)])


# --- Lark errors to diagnostics (LANGUAGE.md 11.2) -------------------------------------------

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


def _translate(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        return error(f"invalid token '{_shown(char)}'", Span.point(file, exc.line, exc.column))
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
    span = _tok_span(token, file)
    if token.type in ("BAD_NUMBER", "BAD_STRING"):
        return error(f"invalid token '{_shown(token.value)}'", span)
    message = f"syntax error: unexpected '{_shown(token.value)}'"
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


def _shown(text: str, limit: int = 40) -> str:
    """Token text for a message: control characters escaped, long text shortened."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# --- tokens to values -------------------------------------------------------------------------


def _tok_span(t: Token, file: str) -> Span:
    return Span(t.line, t.column, t.end_line, t.end_column, file)  # type: ignore[arg-type]


def _digits_ok(t: Token, file: str) -> None:
    if len(t.value) > MAX_NUMBER_DIGITS:
        raise _fail(
            f"number is too long (more than {MAX_NUMBER_DIGITS} digits)", _tok_span(t, file)
        )


def _string_value(t: Token, file: str) -> str:
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
                raise _fail(f"invalid escape '\\{_shown(nxt)}' in string", span)
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


# --- nesting (see the module docstring) -------------------------------------------------------


def _operands(e: ast.Expr) -> Sequence[ast.Expr]:
    """The sub-expressions of `e`, in text order."""
    if isinstance(e, ast.Logic | ast.Arith | ast.Compare):
        return (e.left, e.right)
    if isinstance(e, ast.Paren):
        return (e.inner,)
    if isinstance(e, ast.Not | ast.Neg):
        return (e.operand,)
    if isinstance(e, ast.ListLit):
        return e.items
    if isinstance(e, ast.AnyItems | ast.AllItems | ast.CountItems):
        return (e.cond,) if e.cond is not None else ()
    if isinstance(e, ast.SumItems):
        return (e.value, e.cond) if e.cond is not None else (e.value,)
    return ()


# Width of the opening token of each prefix construct.
_OPENER = {
    ast.Paren: 1, ast.ListLit: 1, ast.Neg: 1, ast.Not: 3, ast.AnyItems: 3, ast.AllItems: 3,
    ast.CountItems: 5, ast.SumItems: 3,
}  # fmt: skip


def _first_token(e: ast.Expr) -> Span:
    while isinstance(e, ast.Logic | ast.Arith | ast.Compare):
        e = e.left
    s = e.span
    width = _OPENER.get(type(e))
    return Span(s.line, s.column, s.line, s.column + width, s.file) if width else s


# --- the inline transformer ------------------------------------------------------------------


class _Builder:
    """Lark calls one method per grammar alias with the children of that rule (tokens
    and already built nodes; `None` for a missing `[optional]`), innermost first. Keyword
    tokens are kept (`!` rules in the grammar) because spans start at them."""

    def __init__(self) -> None:
        self.begin("<rules>")

    # per-parse state; `parse_ruleset` holds the lock while it is in use
    def begin(self, file: str) -> None:
        self.file = file
        self.comments: list[ast.Comment] = []
        self.campaigns = 0
        self.depth: dict[int, int] = {}  # id(expression) -> levels, for constructs only

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
        return ast.Str(self.span(t), _string_value(t, self.file))

    def int_(self, t: Token) -> ast.Int:
        _digits_ok(t, self.file)
        return ast.Int(self.span(t), int(t.value))

    def number_of(self, t: Token) -> ast.Number:
        _digits_ok(t, self.file)
        return ast.Number(self.span(t), Decimal(t.value), t.value)

    def duration_of(self, t: Token) -> ast.Duration:
        _digits_ok(t, self.file)
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
        _digits_ok(t, self.file)
        return ast.Percent(self.span(t), Decimal(t.value[:-1]), t.value)

    def datetime_of(self, date: Token, time: Token | None) -> ast.DateTime:
        """`DATE [TIME]` in the grammar: a local date-time."""
        span = self.tok_to(date, time or date)
        return ast.DateTime(span, self.date_of(date), None if time is None else self.time_of(time))

    # file structure
    def ruleset(self, c: list[Any]) -> ast.Ruleset:
        header, context, *decls = c
        last = decls[-1] if decls else context or header
        span = header.span.through(last.span)
        # The last reduction: the lexer has read every comment by now.
        return ast.Ruleset(span, header, context, tuple(decls), tuple(self.comments))

    def header(self, c: list[Any]) -> ast.Header:
        kw, rid, _, tz, _, cur = c
        return ast.Header(self.tok_to(kw, cur), self.str_(rid), self.str_(tz), self.name(cur))

    def context_block(self, c: list[Any]) -> ast.ContextBlock:
        return ast.ContextBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def attr_decl(self, c: list[Any]) -> ast.AttrDecl:
        root, name, type_ref, default = c
        span = self.tok_to(root, default or type_ref)
        return ast.AttrDecl(span, self.name(root), self.name(name), type_ref, default)

    def plain_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(self.span(c[0]), self.name(c[0]), False)

    def list_type(self, c: list[Any]) -> ast.TypeRef:
        return ast.TypeRef(self.tok_to(c[0], c[-1]), self.name(c[-1]), True)

    def default_list(self, c: list[Any]) -> ast.DefaultList:
        return ast.DefaultList(self.tok_to(c[0], c[-1]), tuple(c[1:-1:2]))

    def negative_number(self, c: list[Any]) -> ast.NumberLit:
        minus, t = c
        _digits_ok(t, self.file)
        return ast.NumberLit(self.tok_to(minus, t), -Decimal(t.value), "-" + t.value)

    def segment(self, c: list[Any]) -> ast.Segment:
        kw, name, _, expr = c
        return ast.Segment(self.tok_to(kw, expr), self.name(name), self.clause(expr))

    def campaign(self, c: list[Any]) -> ast.Campaign:
        kw, name, title, *items = c
        self.campaigns += 1
        if self.campaigns > MAX_CAMPAIGNS:
            message = f"more than {MAX_CAMPAIGNS:,} campaigns in one file"
            raise _fail(message, self.span(name))
        span = self.tok_to(kw, items[-1])
        return ast.Campaign(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    # campaign items
    def tier_item(self, c: list[Any]) -> ast.TierItem:
        return ast.TierItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def goal_item(self, c: list[Any]) -> ast.GoalItem:
        return ast.GoalItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def window_item(self, c: list[Any]) -> ast.WindowItem:
        kw, date1, time1, _, date2, time2 = c
        start, end = self.datetime_of(date1, time1), self.datetime_of(date2, time2)
        return ast.WindowItem(self.tok_to(kw, end), start, end)

    def daily_item(self, c: list[Any]) -> ast.DailyItem:
        return ast.DailyItem(self.tok_to(c[0], c[-1]), tuple(c[1:]))

    def weekly_item(self, c: list[Any]) -> ast.WeeklyItem:
        days = tuple(self.name(t) for t in c[1:] if isinstance(t, Token) and t.type == "NAME")
        ranges = tuple(r for r in c if isinstance(r, ast.TimeRange))
        return ast.WeeklyItem(self.tok_to(c[0], c[-1]), days, ranges)

    def monthly_item(self, c: list[Any]) -> ast.MonthlyItem:
        days = tuple(self.int_(t) for t in c[1:] if isinstance(t, Token) and t.type == "INT")
        ranges = tuple(r for r in c if isinstance(r, ast.TimeRange))
        return ast.MonthlyItem(self.tok_to(c[0], c[-1]), days, ranges)

    def when_item(self, c: list[Any]) -> ast.WhenItem:
        return ast.WhenItem(self.tok_to(c[0], c[1]), self.clause(c[1]))

    def deny_item(self, c: list[Any]) -> ast.DenyItem:
        return ast.DenyItem(self.tok_to(c[0], c[2]), self.clause(c[2]))

    def priority_item(self, c: list[Any]) -> ast.PriorityItem:
        return ast.PriorityItem(self.tok_to(c[0], c[1]), self.int_(c[1]))

    def negative_priority(self, c: list[Any]) -> ast.PriorityItem:
        kw, minus, t = c
        _digits_ok(t, self.file)
        value = ast.Int(self.tok_to(minus, t), -int(t.value))
        return ast.PriorityItem(self.tok_to(kw, t), value)

    def group_item(self, c: list[Any]) -> ast.GroupItem:
        return ast.GroupItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def stage_item(self, c: list[Any]) -> ast.StageItem:
        return ast.StageItem(self.tok_to(c[0], c[1]), self.name(c[1]))

    def referral_item(self, c: list[Any]) -> ast.ReferralItem:
        return ast.ReferralItem(self.tok_to(c[0], c[1]), self.str_(c[1]))

    def time_range(self, c: list[Any]) -> ast.TimeRange:
        start, end = c
        return ast.TimeRange(self.tok_to(start, end), self.time_of(start), self.time_of(end))

    # quotas
    def limit(self, c: list[Any]) -> ast.LimitItem:
        kw, _, scope, count, period = c
        span = self.tok_to(kw, period or count)
        return ast.LimitItem(span, self.name(scope), self.int_(count), period)

    def budget(self, c: list[Any]) -> ast.BudgetItem:
        kw, amount, period = c
        return ast.BudgetItem(self.tok_to(kw, period or amount), self.number_of(amount), period)

    def stock(self, c: list[Any]) -> ast.StockItem:
        kw, count, period = c
        return ast.StockItem(self.tok_to(kw, period or count), self.int_(count), period)

    def period_word(self, c: list[Any]) -> ast.Period:
        return ast.Period(self.tok_to(c[0], c[1]), self.name(c[1]), None)

    def period_duration(self, c: list[Any]) -> ast.Period:
        return ast.Period(self.tok_to(c[0], c[1]), None, self.duration_of(c[1]))

    # rewards
    def discount(self, c: list[Any]) -> ast.DiscountBlock:
        return ast.DiscountBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def value_off(self, c: list[Any]) -> ast.ValueOff:
        return ast.ValueOff(self.tok_to(c[0], c[2]), self.amount_of(c[1]))

    def free_shipping(self, c: list[Any]) -> ast.FreeShipping:
        return ast.FreeShipping(self.tok_to(c[0], c[1]))

    def tiers(self, c: list[Any]) -> ast.Tiers:
        return ast.Tiers(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def spend_tier(self, c: list[Any]) -> ast.Tier:
        kw, threshold, _, save = c
        span = self.tok_to(kw, save)
        return ast.Tier(span, "spend", self.number_of(threshold), self.amount_of(save))

    def qty_tier(self, c: list[Any]) -> ast.Tier:
        kw, threshold, _, save = c
        span = self.tok_to(kw, save)
        return ast.Tier(span, "qty", self.number_of(threshold), self.amount_of(save))

    def every(self, c: list[Any]) -> ast.Every:
        kw, step, _, save = c
        return ast.Every(self.tok_to(kw, save), self.number_of(step), self.number_of(save))

    def buy_get_free(self, c: list[Any]) -> ast.BuyGet:
        kw, buy, _, get, free = c
        return ast.BuyGet(self.tok_to(kw, free), self.int_(buy), self.int_(get), None)

    def buy_get_at(self, c: list[Any]) -> ast.BuyGet:
        kw, buy, _, get, _, percent, off = c
        pct = self.amount_of(percent)
        assert isinstance(pct, ast.Percent)  # the grammar allows only PERCENT here
        return ast.BuyGet(self.tok_to(kw, off), self.int_(buy), self.int_(get), pct)

    def gift(self, c: list[Any]) -> ast.Gift:
        kw, sku, _, qty = c
        span = self.tok_to(kw, qty or sku)
        return ast.Gift(span, self.str_(sku), None if qty is None else self.int_(qty))

    def points(self, c: list[Any]) -> ast.Points:
        kw, points, _, per = c
        span = self.tok_to(kw, per or points)
        return ast.Points(span, self.int_(points), None if per is None else self.number_of(per))

    def cap(self, c: list[Any]) -> ast.Cap:
        return ast.Cap(self.tok_to(c[0], c[1]), self.number_of(c[1]))

    def min_spend(self, c: list[Any]) -> ast.MinSpend:
        return ast.MinSpend(self.tok_to(c[0], c[2]), self.number_of(c[2]))

    def on_items(self, c: list[Any]) -> ast.OnItems:
        return ast.OnItems(self.tok_to(c[0], c[3]), self.clause(c[3]))

    def coupon(self, c: list[Any]) -> ast.CouponBlock:
        kw, name, title, *items = c
        span = self.tok_to(kw, items[-1])
        return ast.CouponBlock(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    def valid_for(self, c: list[Any]) -> ast.ValidFor:
        return ast.ValidFor(self.tok_to(c[0], c[3]), self.duration_of(c[1]))

    def valid_until(self, c: list[Any]) -> ast.ValidUntil:
        kw, _, date, time = c
        until = self.datetime_of(date, time)
        return ast.ValidUntil(self.tok_to(kw, until), until)

    def valid_range(self, c: list[Any]) -> ast.ValidRange:
        kw, date1, time1, _, date2, time2 = c
        start, end = self.datetime_of(date1, time1), self.datetime_of(date2, time2)
        return ast.ValidRange(self.tok_to(kw, end), start, end)

    def pack(self, c: list[Any]) -> ast.PackBlock:
        kw, name, title, *items = c
        span = self.tok_to(kw, items[-1])
        return ast.PackBlock(span, self.name(name), self.opt_str(title), tuple(items[1:-1]))

    def lottery(self, c: list[Any]) -> ast.LotteryBlock:
        return ast.LotteryBlock(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def prize(self, c: list[Any]) -> ast.Prize:
        kw, name, title, kind, _, weight, stock = c
        span = self.tok_to(kw, stock or weight)
        return ast.Prize(span, self.name(name), self.opt_str(title), kind, self.int_(weight), stock)

    def prize_coupon(self, c: list[Any]) -> ast.PrizeCoupon:
        return ast.PrizeCoupon(self.tok_to(c[0], c[-1]), tuple(c[2:-1]))

    def prize_points(self, c: list[Any]) -> ast.PrizePoints:
        return ast.PrizePoints(self.tok_to(c[0], c[1]), self.int_(c[1]))

    def otherwise(self, c: list[Any]) -> ast.Otherwise:
        kw, text, _, weight = c
        span = self.tok_to(kw, weight or text)
        return ast.Otherwise(span, self.str_(text), None if weight is None else self.int_(weight))

    def guarantee(self, c: list[Any]) -> ast.Guarantee:
        kw, prize, _, misses, last = c
        return ast.Guarantee(self.tok_to(kw, last), self.name(prize), self.int_(misses))

    # expressions: constructs record their depth (levels) for `clause`
    def nested(self, node: N, *operands: ast.Expr) -> N:
        depth = self.depth
        depth[id(node)] = 1 + max([depth.get(id(o), 0) for o in operands], default=0)
        return node

    def clause(self, expr: ast.Expr) -> ast.Expr:
        """A whole condition: check its depth, then forget the depths recorded so far."""
        if self.depth.get(id(expr), 0) > MAX_NESTING:
            message = f"expression nested deeper than {MAX_NESTING} levels"
            raise _fail(message, _first_token(self.too_deep(expr)))
        self.depth.clear()
        return expr

    def too_deep(self, root: ast.Expr) -> ast.Expr:
        """The first construct, in reading order, at level MAX_NESTING + 1 (the root is
        level 1): the descent takes the first operand deep enough at each level."""
        node, level = root, 1
        while level <= MAX_NESTING:
            needed = MAX_NESTING + 1 - level
            node = next(o for o in _operands(node) if self.depth.get(id(o), 0) >= needed)
            level += 1
        return node

    def logic_or(self, c: list[Any]) -> ast.Logic:
        left, right = c
        return self.nested(ast.Logic(left.span.through(right.span), "or", left, right), left, right)

    def logic_and(self, c: list[Any]) -> ast.Logic:
        left, right = c
        node = ast.Logic(left.span.through(right.span), "and", left, right)
        return self.nested(node, left, right)

    def logic_not(self, c: list[Any]) -> ast.Not:
        return self.nested(ast.Not(self.tok_to(c[0], c[1]), c[1]), c[1])

    def compare(self, c: list[Any]) -> ast.Compare:
        left, *ops, right = c  # one operator token, or two for `not in`
        op = _COMPARE_OPS[" ".join(t.value for t in ops)]
        node = ast.Compare(
            left.span.through(right.span), op, left, right, self.tok_to(ops[0], ops[-1])
        )
        return self.nested(node, left, right)

    def arith(self, c: list[Any]) -> ast.Arith:
        left, op, right = c
        node = ast.Arith(
            left.span.through(right.span), _ARITH_OPS[op.value], left, right, self.span(op)
        )
        return self.nested(node, left, right)

    def negate(self, c: list[Any]) -> ast.Neg:
        return self.nested(ast.Neg(self.tok_to(c[0], c[1]), c[1]), c[1])

    def path(self, c: list[Any]) -> ast.Path:
        parts = tuple(t.value for t in c if t.type == "NAME")
        return ast.Path(self.tok_to(c[0], c[-1]), parts)

    def paren(self, c: list[Any]) -> ast.Paren:
        return self.nested(ast.Paren(self.tok_to(c[0], c[2]), c[1]), c[1])

    def list_lit(self, c: list[Any]) -> ast.ListLit:
        items = tuple(c[1:-1:2])
        return self.nested(ast.ListLit(self.tok_to(c[0], c[-1]), items), *items)

    def any_items(self, c: list[Any]) -> ast.AnyItems:
        return self.nested(ast.AnyItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def all_items(self, c: list[Any]) -> ast.AllItems:
        return self.nested(ast.AllItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def count_all(self, c: list[Any]) -> ast.CountItems:
        return self.nested(ast.CountItems(self.tok_to(c[0], c[3]), None))

    def count_where(self, c: list[Any]) -> ast.CountItems:
        return self.nested(ast.CountItems(self.tok_to(c[0], c[5]), c[4]), c[4])

    def sum_all(self, c: list[Any]) -> ast.SumItems:
        return self.nested(ast.SumItems(self.tok_to(c[0], c[5]), c[2], None), c[2])

    def sum_where(self, c: list[Any]) -> ast.SumItems:
        node = ast.SumItems(self.tok_to(c[0], c[7]), c[2], c[6])
        return self.nested(node, c[2], c[6])

    def runtime_list(self, c: list[Any]) -> ast.RuntimeList:
        return ast.RuntimeList(self.tok_to(c[0], c[1]), self.str_(c[1]))

    def number_lit(self, c: list[Any]) -> ast.NumberLit:
        t = c[0]
        _digits_ok(t, self.file)
        return ast.NumberLit(self.span(t), Decimal(t.value), t.value)

    def string_lit(self, c: list[Any]) -> ast.StringLit:
        return ast.StringLit(self.span(c[0]), _string_value(c[0], self.file))

    def duration_lit(self, c: list[Any]) -> ast.DurationLit:
        d = self.duration_of(c[0])
        return ast.DurationLit(d.span, d.seconds, d.text)

    def datetime_lit(self, c: list[Any]) -> ast.DateTimeLit:
        value = self.datetime_of(c[0], c[1])
        return ast.DateTimeLit(value.span, value)

    def true_lit(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(self.span(c[0]), True)

    def false_lit(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(self.span(c[0]), False)
