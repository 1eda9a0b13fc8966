"""Comments and blank lines for `promo fmt`: where each comment of the source goes among
the formatted lines, and the final text.

The layout (layout.py) prints code lines from the tree; each line knows the source
position of its first token (its anchor). Since the formatter never reorders code, the
lines cut the source's token stream into consecutive runs, so "the line holding the
token at P" is the last line anchored at or before P. A comment then goes:

- after the code of the line holding the token before it, when it ended a line of code
  in the source (an end-of-line comment); if that line already has one, on its own line
  right below it;
- above the line holding the token after it, at that line's indentation, when it stood
  on its own line (inside a closing `}` line's block: one level deeper);
- at the end of the file when no token follows it.

Blank lines: one is kept where the author left one or more before a top-level
declaration or a campaign item (or before an own-line comment that leads one), and
nowhere else.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from dsl import ast
from dsl.errors import Span

Pos = tuple[int, int]  # (line, column), 1-based, as in Span
END: Pos = (1 << 62, 0)  # after every token: the anchor of the end of the file

# Enough of the lexer to find where code tokens start: strings and comments whole, words
# and numbers as runs (so `or` after `)` is a token of its own), anything else one char.
_TOKEN = re.compile(r'[ \t\r\n]+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_]+|.', re.S)


def start(span: Span) -> Pos:
    return (span.line, span.column)


def end(span: Span) -> Pos:
    """Just after the last character of `span`."""
    return (span.end_line, span.end_column)


def closing_brace(span: Span) -> Pos:
    """The `}` that ends a block whose span ends with it."""
    return (span.end_line, span.end_column - 1)


class SourceIndex:
    """Where the code tokens, comments and blank lines of one source text are."""

    def __init__(self, text: str, comments: Sequence[ast.Comment]) -> None:
        self.lines = text.split("\n")  # Lark counts lines by LF only
        self.tokens = _token_starts(text)
        self.comments = sorted(start(c.span) for c in comments)

    def next_token(self, pos: Pos) -> Pos:
        """The first token at or after `pos` (END when there is none)."""
        i = bisect_left(self.tokens, pos)
        return self.tokens[i] if i < len(self.tokens) else END

    def prev_token(self, pos: Pos) -> Pos | None:
        """The last token that starts before `pos`."""
        i = bisect_left(self.tokens, pos)
        return self.tokens[i - 1] if i else None

    def has_comment(self, begin: Pos, stop: Pos) -> bool:
        """Whether a comment starts in [begin, stop)."""
        i = bisect_left(self.comments, begin)
        return i < len(self.comments) and self.comments[i] < stop

    def own_line(self, pos: Pos) -> bool:
        """Nothing but whitespace before `pos` on its line."""
        line, column = pos
        return not self.lines[line - 1][: column - 1].strip(" \t")

    def blank_before(self, pos: Pos) -> bool:
        """`pos` starts its line and the line above it is blank."""
        line = pos[0]
        return line > 1 and self.own_line(pos) and not self.lines[line - 2].strip(" \t\r")

    def blank_between(self, after: Pos, before: Pos) -> bool:
        """A blank line lies strictly between the lines of `after` and `before`."""
        return any(not self.lines[n - 1].strip(" \t\r") for n in range(after[0] + 1, before[0]))


def _token_starts(text: str) -> list[Pos]:
    starts: list[Pos] = []
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        first = text[m.start()]
        if first not in " \t\r\n#":
            starts.append((line, m.start() - line_start + 1))
        newlines = m.group().count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rindex("\n") + 1
    return starts


@dataclass(slots=True)
class Line:
    """One formatted line of code. `gap`: a blank line the author left before it is
    kept. `comment_indent`: where own-line comments above it go (None: its indent)."""

    indent: int
    text: str
    anchor: Pos
    gap: bool = False
    comment_indent: int | None = None
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: ast.Comment | None = None


def weave(lines: list[Line], comments: Sequence[ast.Comment], index: SourceIndex) -> Line:
    """Attach every comment to a line; returns the end-of-file line with the rest."""
    eof = Line(0, "", END, gap=True)
    anchors = [line.anchor for line in lines]
    for comment in comments:
        pos = start(comment.span)
        before = index.prev_token(pos)
        if before is not None and before[0] == pos[0]:
            at = bisect_right(anchors, before) - 1
            if lines[at].trailing is None:
                lines[at].trailing = comment
            else:  # a second comment for a line that joined source lines: right below it
                (lines[at + 1] if at + 1 < len(lines) else eof).leading.append(comment)
            continue
        after = index.next_token(pos)
        target = eof if after == END else lines[bisect_right(anchors, after) - 1]
        target.leading.append(comment)
    return eof


def render(lines: list[Line], eof: Line, index: SourceIndex) -> str:
    """The formatted text: comments in place, blank lines kept where allowed, trailing
    comments of consecutive lines aligned."""
    rows: list[tuple[str, ast.Comment | None]] = []  # (code or comment line, trailing)

    def blank() -> None:
        if rows and rows[-1] != ("", None):
            rows.append(("", None))

    for line in [*lines, eof]:
        pending_gap = line.gap and line is not eof and index.blank_before(line.anchor)
        indent = " " * (line.indent if line.comment_indent is None else line.comment_indent)
        for comment in line.leading:
            pos = start(comment.span)
            if pos > line.anchor and pending_gap:  # the rest was inside the line's code
                blank()
                pending_gap = False
            if line.gap and pos < line.anchor and index.blank_before(pos):
                blank()
            rows.append((indent + _comment_text(comment), None))
        if line is eof:
            break
        if pending_gap:
            blank()
        rows.append((" " * line.indent + line.text, line.trailing))
    return "\n".join(_aligned(rows)) + "\n"


def _aligned(rows: list[tuple[str, ast.Comment | None]]) -> list[str]:
    """Trailing comments of consecutive lines with the same indentation start in one
    column, two spaces after the longest code among them."""
    out: list[str] = []
    i = 0
    while i < len(rows):
        j = i
        while (
            j < len(rows) and rows[j][1] is not None and _indent(rows[j][0]) == _indent(rows[i][0])
        ):
            j += 1
        if j == i:
            out.append(rows[i][0])
            i += 1
            continue
        column = max(len(code) for code, _ in rows[i:j]) + 2
        for code, comment in rows[i:j]:
            assert comment is not None
            out.append(code.ljust(column) + _comment_text(comment))
        i = j
    return out


def _indent(code: str) -> int:
    return len(code) - len(code.lstrip(" "))


def _comment_text(comment: ast.Comment) -> str:
    # Trailing blanks are invisible and editors strip them; a CR left by a CRLF file too.
    return comment.text.rstrip(" \t\r")
