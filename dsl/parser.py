"""Rule text to syntax tree (LANGUAGE.md 2, 3, 5, 12); Lark's errors become ours here only.

>>> tree = parse_ruleset('ruleset "r" timezone "UTC" currency CNY', "r.promo")
>>> tree.header.currency.text
'CNY'

The grammar (grammar.lark) runs on Lark's LALR parser with the contextual lexer, which
makes keywords contextual (2.3). The tree is built while parsing by an inline
transformer (`TreeBuilder`, tree_builder.py), so no parse tree is made. The Lark object
is built once per process, from a cache, with a faster drop-in for Lark's token and
parser loops (lark_loops.py: same tables, scanners and errors).

Errors: a lexical or syntax error stops the parse with one diagnostic (11.2), translated
from Lark's exception by syntax_errors.py. Invalid dates and times are not errors here:
they become `DateLit(value=None)` and `TimeLit(seconds=None)`, so that the checker
reports them with every other error.

Resource bounds (vocabulary.py): a file over MAX_FILE_BYTES of UTF-8 (here), an
expression deeper than MAX_NESTING (expr_builder.py) and more than MAX_CAMPAIGNS
campaigns (tree_builder.py) are each one error.
"""

from __future__ import annotations

import gc
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, cast

from lark import Lark, UnexpectedInput
from lark.lark import PostLex

from dsl import ast
from dsl.errors import RuleError, Span
from dsl.lark_loops import FAST_RUNTIME
from dsl.syntax_errors import fail, translate
from dsl.tokens import MAX_NUMBER_DIGITS as MAX_NUMBER_DIGITS
from dsl.tree_builder import TreeBuilder
from dsl.vocabulary import MAX_FILE_BYTES

__all__ = ["parse_ruleset"]

# Terminals scanned in every parser state (see grammar.lark): all but the keywords, which
# must stay out (LIST too: `user.list` is a path). A test keeps this list complete.
_ALWAYS = (
    "NAME", "STRING", "BAD_STRING", "DATE", "TIME", "PERCENT", "DURATION", "BAD_NUMBER",
    "DECIMAL", "INT", "MINUS", "DOTDOT", "DOT", "EQ", "NE", "LE", "GE", "LT", "GT",
    "ASSIGN", "PLUS", "STAR", "COLON", "COMMA", "LPAR", "RPAR", "LSQB", "RSQB", "LBRACE",
    "RBRACE",
)  # fmt: skip


# --- the Lark object, built once -----------------------------------------------------------


class _AlwaysAccept(PostLex):
    """Only here for `always_accept`: Lark adds these terminals to every state's scanner."""

    always_accept = _ALWAYS

    def process(self, stream: Any) -> Any:
        return stream


_lock = threading.Lock()
_parsers: dict[bool, tuple[Lark, TreeBuilder]] = {}


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


def _parser(fast: bool = True) -> tuple[Lark, TreeBuilder]:
    """The Lark object and its transformer, built on first use; call with `_lock` held.
    `fast=False` is Lark's stock runtime, which the tests compare the fast one with."""
    if fast not in _parsers:
        builder = TreeBuilder()
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
            _plugins=FAST_RUNTIME if fast else {},
        )
        _parsers[fast] = (lark, builder)
    return _parsers[fast]


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
        raise fail(f"file is larger than {MAX_FILE_BYTES >> 20} MiB", Span.point(file, 1, 1))
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
            raise RuleError([translate(exc, text, file)]) from None
        finally:
            builder.finish()
            if collecting:
                gc.enable()
    return tree


def _utf8_size(text: str) -> int:
    if len(text) * 4 <= MAX_FILE_BYTES:  # at most 4 bytes a character: no need to encode
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))
