"""Who a campaign is for, in plain words, for `promo explain`.

The compiled model keeps conditions as code, so the words come from the syntax tree of
the same source. Each `when` is split at its top-level `and`s; a segment reads as its
name with its definition, and a few common conditions read as words (`channel in
["app", "web"]` is "in the app or on the web"); anything else is shown as written, in
canonical form, which is exact.

>>> from dsl.parser import parse_ruleset
>>> tree = parse_ruleset('''ruleset "r" timezone "UTC" currency CNY
... segment members = user.level >= 1
... campaign c { window 2026-01-01 .. 2026-01-02 when members and channel in ["app", "web"]
...   discount { value 5 off } }''')
>>> Eligibility(tree).eligible("c")
'members (user.level >= 1), in the app or on the web'
"""

from __future__ import annotations

from dsl import ast
from dsl.phrases import join
from dsl.printer import expr_text

_CHANNELS = {
    "app": "in the app",
    "web": "on the web",
    "mini_program": "in the mini program",
    "h5": "on H5 pages",
    "pos": "at the till (POS)",
}
_FLAGS = {
    ("user", "is_new"): ("new users", "users who are not new"),
    ("user", "phone_verified"): ("with a verified phone", "without a verified phone"),
}


class Eligibility:
    """Conditions of the campaigns of one tree, by campaign id."""

    def __init__(self, tree: ast.Ruleset) -> None:
        self.segments = {s.name.text: s.expr for s in tree.segments}
        self.campaigns = {c.name.text: c for c in tree.campaigns}

    def conditions(self, campaign: str) -> list[str]:
        """The `when` conditions as written (canonical text)."""
        return [expr_text(i.expr) for i in self._items(campaign, ast.WhenItem)]

    def denials(self, campaign: str) -> list[str]:
        return [expr_text(i.expr) for i in self._items(campaign, ast.DenyItem)]

    def eligible(self, campaign: str) -> str:
        """Every `when` in words: `members (user.level >= 1), in the app`; `everyone`."""
        parts = [
            self.words(term)
            for item in self._items(campaign, ast.WhenItem)
            for term in _conjuncts(item.expr)
        ]
        return ", ".join(parts) if parts else "everyone"

    def denied(self, campaign: str) -> str | None:
        """`when risky (user.risk_score >= 80), or when ...`; None without `deny when`."""
        parts = [self.words(i.expr) for i in self._items(campaign, ast.DenyItem)]
        return "when " + "; or when ".join(parts) if parts else None

    def words(self, expr: ast.Expr, inline_segments: bool = True) -> str:
        if isinstance(expr, ast.Path) and len(expr.parts) == 1 and expr.text in self.segments:
            if not inline_segments:
                return expr.text
            body = self.segments[expr.text]
            inner = " and ".join(self.words(t, False) for t in _conjuncts(body))
            return f"{expr.text} ({inner})"
        if isinstance(expr, ast.Not):
            flag = _flag(expr.operand)
            if flag is not None:
                return flag[1]
            if isinstance(expr.operand, ast.Path) and expr.operand.text in self.segments:
                return "not " + self.words(expr.operand, inline_segments)
        flag = _flag(expr)
        if flag is not None:
            return flag[0]
        return _channel(expr) or expr_text(expr)

    def _items(
        self, campaign: str, kind: type[ast.WhenItem] | type[ast.DenyItem]
    ) -> list[ast.WhenItem | ast.DenyItem]:
        found = self.campaigns.get(campaign)
        if found is None:
            return []
        return [i for i in found.items if isinstance(i, kind)]


def _conjuncts(expr: ast.Expr) -> list[ast.Expr]:
    """`a and b and c` -> [a, b, c]; anything else -> [expr]."""
    out: list[ast.Expr] = []
    while isinstance(expr, ast.Logic) and expr.op == "and":
        out.append(expr.right)
        expr = expr.left
    out.append(expr)
    return out[::-1]


def _flag(expr: ast.Expr) -> tuple[str, str] | None:
    if isinstance(expr, ast.Path):
        return _FLAGS.get(tuple(expr.parts))  # type: ignore[arg-type]
    return None


def _channel(expr: ast.Expr) -> str | None:
    """`channel == "app"` / `channel in ["app", "web"]` in words."""
    if not (
        isinstance(expr, ast.Compare)
        and expr.op in ("==", "in")
        and isinstance(expr.left, ast.Path)
        and expr.left.text == "channel"
    ):
        return None
    right = expr.right
    items = right.items if isinstance(right, ast.ListLit) else (right,)
    names = [i.value for i in items if isinstance(i, ast.StringLit)]
    if len(names) != len(items) or not names:
        return None
    return join([_CHANNELS.get(n, f'on channel "{n}"') for n in names], "or")
