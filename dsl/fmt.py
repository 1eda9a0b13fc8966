"""`promo fmt`: one canonical layout for rule files, keeping every comment.

>>> print(format_source('ruleset "r" timezone "UTC" currency CNY  # demo'), end="")
ruleset "r"
timezone "UTC"
currency CNY  # demo

The layout is printed from the syntax tree (layout.py, wrapping.py), and the comments
and blank lines are woven back in (weave.py). Formatting is idempotent and never changes
meaning; as a safety net (like black's), every result is parsed again and must give the
same tree, up to positions, and the same comments, or the file is left alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields

from dsl import ast
from dsl.errors import RuleError, Span, error
from dsl.layout import Layout
from dsl.parser import parse_ruleset
from dsl.weave import SourceIndex, render, weave

__all__ = ["FormatError", "format_source", "same_tree", "shape"]

# Positions, and the comments the formatter moves on purpose.
_IGNORED = frozenset({"span", "op_span", "comments"})


class FormatError(RuleError):
    """The formatter would have changed what a file means (a bug in the formatter): the
    file is reported and left as it is. A RuleError, so callers report it like one."""


def format_source(text: str, file: str = "<rules>") -> str:
    """The canonical text of a rule file. Raises RuleError when the file does not parse
    (and FormatError in the unexpected case that the result would not be equivalent)."""
    text = text.removeprefix("\ufeff")  # as the parser does, so that positions agree
    tree = parse_ruleset(text, file)
    index = SourceIndex(text, tree.comments)
    lines = Layout(index).ruleset(tree)
    eof = weave(lines, tree.comments, index)
    formatted = render(lines, eof, index)
    _verify(tree, formatted, file)
    return formatted


def shape(node: object) -> object:
    """A node as nested tuples without positions or comments: two trees with the same
    shape are the same rules, written with a different layout."""
    if isinstance(node, ast.Node):
        values = (shape(getattr(node, f.name)) for f in fields(node) if f.name not in _IGNORED)
        return (type(node).__name__, *values)
    if isinstance(node, tuple):
        return tuple(shape(item) for item in node)
    return node


def same_tree(a: ast.Ruleset, b: ast.Ruleset) -> bool:
    """Equal up to positions, and with the same comment texts in any order."""
    return shape(a) == shape(b) and comment_texts(a) == comment_texts(b)


def comment_texts(tree: ast.Ruleset) -> Counter[str]:
    """The multiset of comment texts, without trailing blanks (the formatter drops them)."""
    return Counter(c.text.rstrip(" \t\r") for c in tree.comments)


def _verify(tree: ast.Ruleset, formatted: str, file: str) -> None:
    try:
        again = parse_ruleset(formatted, file)
    except RuleError as exc:
        raise _unsafe(file, f"the result does not parse: {exc}") from None
    if not same_tree(tree, again):
        raise _unsafe(file, "the result would mean something else")


def _unsafe(file: str, why: str) -> FormatError:
    message = f"internal error: promo fmt cannot format this file safely ({why}); please report it"
    return FormatError([error(message, Span.point(file, 1, 1))])
