"""The canonical layout of a rule file for `promo fmt`: the tree printed as code lines.

- The header is three lines; then the `context` block, segments and campaigns in file
  order. Blocks indent their items by 4 spaces, one item per line, and close with `}`
  on a line of its own (a prize's `weight` and `stock` follow that `}`).
- A `discount` or `coupon` block (a campaign's, a pack's or a prize's) goes on one
  line, `discount { value 5% off  cap 30 }`, when it has at most three items, none of
  them `tiers` or `on items where`, no comment between its braces, and the line fits in
  100 columns. Items on such a line are two spaces apart. Campaign, context, pack,
  lottery and `tiers` blocks always take one line per item; an empty block is `{}`.
- Adjacent one-line coupons (a pack's) are aligned as a table, when it fits; adjacent
  segments align their `=`. A blank line kept between them ends the alignment.
- Conditions break as wrapping.py says.

Each line records the source position of its first token, for weave.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsl import ast
from dsl.errors import Span
from dsl.itemtext import aligned_rows, inline_items, item_text, one_line, title_text
from dsl.printer import string_text
from dsl.weave import Line, Pos, SourceIndex, closing_brace, end, start
from dsl.wrapping import WIDTH, place

INDENT = 4
_Run = list[tuple[ast.CouponBlock, list[str]]]


@dataclass(frozen=True, slots=True)
class Head:
    """What comes before a block's items: its text, where its first token and its `{`
    are in the source."""

    text: str
    anchor: Pos
    brace: Pos


class Layout:
    """Prints one tree; `lines` grows as it goes."""

    def __init__(self, index: SourceIndex) -> None:
        self.index = index
        self.lines: list[Line] = []

    def ruleset(self, tree: ast.Ruleset) -> list[Line]:
        self.header(tree.header)
        if tree.context is not None:
            self.block(self.keyword_head(tree.context, "context"), tree.context, 0, True)
        widths = self.segment_widths(tree.decls)
        for decl in tree.decls:
            if isinstance(decl, ast.Segment):
                name = decl.name.text.ljust(widths[id(decl)])
                self.clause(f"segment {name} = ", decl.expr, 0, start(decl.span), gap=True)
            else:
                head = self.named_head("campaign", decl.name, decl.title, decl.span)
                self.block(head, decl, 0, True, item_gaps=True)
        return self.lines

    def emit(self, indent: int, text: str, anchor: Pos, gap: bool = False) -> Line:
        line = Line(indent, text, anchor, gap)
        self.lines.append(line)
        return line

    def gap(self, before: ast.Node, after: ast.Node) -> bool:
        """The author left a blank line between two nodes."""
        return self.index.blank_between(end(before.span), start(after.span))

    # -- heads ---------------------------------------------------------------------------

    def keyword_head(self, node: ast.Node, keyword: str) -> Head:
        span = node.span
        brace = self.index.next_token((span.line, span.column + len(keyword)))
        return Head(keyword, start(span), brace)

    def named_head(self, keyword: str, name: ast.Name, title: ast.Str | None, span: Span) -> Head:
        # Only comments may come between the name (or title) and the `{`.
        brace = self.index.next_token(end((title or name).span))
        return Head(f"{keyword} {name.text}{title_text(title)}", start(span), brace)

    # -- declarations --------------------------------------------------------------------

    def header(self, header: ast.Header) -> None:
        next_token = self.index.next_token
        self.emit(0, f"ruleset {string_text(header.ruleset_id.value)}", start(header.span), True)
        anchor = next_token(end(header.ruleset_id.span))
        self.emit(0, f"timezone {string_text(header.timezone.value)}", anchor)
        self.emit(0, f"currency {header.currency.text}", next_token(end(header.timezone.span)))

    def segment_widths(self, decls: Sequence[ast.Segment | ast.Campaign]) -> dict[int, int]:
        """The name width of each segment: the longest name among the adjacent segments."""
        widths: dict[int, int] = {}
        run: list[ast.Segment] = []
        for decl in [*decls, None]:
            adjacent = isinstance(decl, ast.Segment) and bool(run) and not self.gap(run[-1], decl)
            if run and not adjacent:
                width = max(len(s.name.text) for s in run)
                widths.update((id(s), width) for s in run)
                run = []
            if isinstance(decl, ast.Segment):
                run.append(decl)
        return widths

    # -- items ---------------------------------------------------------------------------

    def item(self, node: ast.Node, indent: int, gap: bool) -> None:
        text = item_text(node)
        if text is not None:
            self.emit(indent, text, start(node.span), gap)
            return
        match node:
            case ast.WhenItem(expr=expr):
                self.clause("when ", expr, indent, start(node.span), gap)
            case ast.DenyItem(expr=expr):
                self.clause("deny when ", expr, indent, start(node.span), gap)
            case ast.OnItems(expr=expr):
                self.clause("on items where ", expr, indent, start(node.span), gap)
            case ast.DiscountBlock():
                self.block(self.keyword_head(node, "discount"), node, indent, gap, inline=True)
            case ast.LotteryBlock():
                self.block(self.keyword_head(node, "lottery"), node, indent, gap)
            case ast.Tiers():
                self.block(self.keyword_head(node, "tiers"), node, indent, gap)
            case ast.CouponBlock(name=name, title=title):
                head = self.named_head("coupon", name, title, node.span)
                self.block(head, node, indent, gap, inline=True)
            case ast.PackBlock(name=name, title=title):
                self.block(self.named_head("pack", name, title, node.span), node, indent, gap)
            case ast.Prize():
                self.prize(node, indent, gap)
            case _:
                raise TypeError(f"cannot lay out {type(node).__name__}")

    def clause(self, head: str, expr: ast.Expr, indent: int, anchor: Pos, gap: bool) -> None:
        """`head` then a condition, broken over lines when it is long."""
        first, *rest = place(expr, indent + len(head), self.index)
        self.emit(indent, head + first.text, anchor, gap)
        for piece in rest:
            assert piece.anchor is not None
            self.emit(piece.column, piece.text, piece.anchor)

    def prize(self, prize: ast.Prize, indent: int, gap: bool) -> None:
        text = f"prize {prize.name.text}{title_text(prize.title)}"
        tail = f" weight {prize.weight.value}"
        if prize.stock is not None:
            tail += f" {item_text(prize.stock)}"
        kind = prize.kind
        if isinstance(kind, ast.PrizeCoupon):
            coupon = self.keyword_head(kind, "coupon")
            head = Head(f"{text} coupon", start(prize.span), coupon.brace)
            self.block(head, kind, indent, gap, tail=tail, inline=True)
        else:
            middle = "" if kind is None else f" points {kind.points.value}"
            self.emit(indent, text + middle + tail, start(prize.span), gap)

    # -- blocks --------------------------------------------------------------------------

    def block(
        self,
        head: Head,
        node: _Block,
        indent: int,
        gap: bool,
        *,
        tail: str = "",
        inline: bool = False,
        item_gaps: bool = False,
    ) -> None:
        """`head { items }tail`: on one line when allowed, else one item per line. The
        node's span ends with its `}`."""
        items = _items(node)
        if not items and not self.index.has_comment(head.brace, closing_brace(node.span)):
            self.emit(indent, f"{head.text} {{}}{tail}", head.anchor, gap)
            return
        texts = self.one_line_items(head, node, indent, tail) if inline else None
        if texts is not None:
            self.emit(indent, one_line(head.text, texts, tail), head.anchor, gap)
            return
        self.emit(indent, f"{head.text} {{", head.anchor, gap)
        tables = self.coupon_tables(items, indent + INDENT, item_gaps)
        for k, item in enumerate(items):
            item_gap = item_gaps and k > 0
            if id(item) in tables:
                self.emit(indent + INDENT, tables[id(item)], start(item.span), item_gap)
            else:
                self.item(item, indent + INDENT, item_gap)
        close = self.emit(indent, "}" + tail, closing_brace(node.span))
        close.comment_indent = indent + INDENT

    def one_line_items(self, head: Head, node: _Block, indent: int, tail: str) -> list[str] | None:
        """The item texts when the block goes on one line, else None."""
        # Only a comment between the braces keeps a block open: one before the `{` is
        # placed above or after the line, where the next run finds it again.
        items = _items(node)
        if not items or self.index.has_comment(head.brace, closing_brace(node.span)):
            return None
        texts = inline_items(items)
        if texts is None or indent + len(one_line(head.text, texts, tail)) > WIDTH:
            return None
        return texts

    def coupon_tables(self, items: Sequence[ast.Node], indent: int, gaps: bool) -> dict[int, str]:
        """The lines of adjacent one-line coupons, aligned as a table: by id(coupon)."""
        rows: dict[int, str] = {}
        run: _Run = []
        for item in [*items, None]:
            coupon = item if isinstance(item, ast.CouponBlock) else None
            texts = None
            if coupon is not None:
                head = self.named_head("coupon", coupon.name, coupon.title, coupon.span)
                texts = self.one_line_items(head, coupon, indent, "")
            if coupon is None or texts is None or (run and gaps and self.gap(run[-1][0], coupon)):
                rows.update(_table(run, indent))
                run = []
            if coupon is not None and texts is not None:
                run.append((coupon, texts))
        return rows


_Block = (
    ast.Campaign
    | ast.ContextBlock
    | ast.DiscountBlock
    | ast.CouponBlock
    | ast.PackBlock
    | ast.LotteryBlock
    | ast.Tiers
    | ast.PrizeCoupon
)


def _items(node: _Block) -> Sequence[ast.Node]:
    if isinstance(node, ast.ContextBlock):
        return node.attrs
    if isinstance(node, ast.Tiers):
        return node.tiers
    return node.items


def _table(run: _Run, indent: int) -> dict[int, str]:
    """Two or more one-line coupons as an aligned table, when every row still fits."""
    if len(run) < 2:
        return {}
    rows = [
        (f"coupon {c.name.text}", "" if c.title is None else string_text(c.title.value), texts)
        for c, texts in run
    ]
    table = aligned_rows(rows)
    if any(indent + len(row) > WIDTH for row in table):
        return {}
    return {id(c): row for (c, _), row in zip(run, table, strict=True)}
