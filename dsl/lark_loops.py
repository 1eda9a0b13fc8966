"""A faster runtime for Lark's LALR parser and contextual lexer, plugged in by parser.py
through Lark's `_plugins` option.

Lark's own loops spend most of a parse in Python-level bookkeeping: for each token a few
method calls to scan, build the Token and count lines; for each reduction a lookup keyed
by a Rule object (its __hash__ and __eq__ are Python methods) and another keyed by a
Token. These classes run the same algorithm with the same tables, scanners and
exceptions: each state's scanner is still the one Lark's ContextualLexer builds from the
terminals that state accepts (so keywords stay contextual), and every error is raised by
Lark's own code, on the same state. They halve the parse time (see docs/language.md); the
tests run the examples and the fuzz inputs through both runtimes and compare the results.

They depend on Lark internals (`scanner._mres`, `UnlessCallback`, `_Parser`): where those
are not as expected, each class falls back to Lark's own loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn, cast

from lark import Token, UnexpectedCharacters, UnexpectedInput
from lark.grammar import Rule
from lark.lexer import BasicLexer, ContextualLexer, LexerState, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser import LALR_Parser, _Parser
from lark.parsers.lalr_parser_state import ParserState

__all__ = ["FAST_RUNTIME"]

# Token() costs two Python-level calls: the loop makes the str and sets the fields itself.
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


# Lark's `_plugins`: the classes Lark builds in place of its own.
FAST_RUNTIME: dict[str, type] = {
    "ContextualLexer": _FastContextualLexer,
    "LALR_Parser": _FastLALR,
}
