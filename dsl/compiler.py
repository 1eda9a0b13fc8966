"""A checked syntax tree to the `model.CompiledRuleset` the engine runs (LANGUAGE.md 3-8).

Every value is resolved here: instants in unix seconds (the DST rule of section 6 through
`dsl.localtime.instant`, build_time.py), money in integer minor units, percentages as
`Fraction`s (build_rewards.py). Conditions become one generated Python module per
ruleset (`dsl/codegen.py`). Each campaign and the ruleset get a fingerprint of what they
mean.

>>> compiled, warnings = compile_text(
...     'ruleset "r" timezone "UTC" currency CNY '
...     "campaign c { window 2026-01-01 .. 2026-01-02  discount { value 5.5 off } }"
... )
>>> compiled.campaigns[0].discount.benefit, compiled.campaigns[0].window
(ValueOff(amount=550), Window(start=1767225600, end=1767398399))
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable
from typing import Any

from dsl import ast as A
from dsl import model as M
from dsl.attributes import make_binder
from dsl.build_rewards import RewardBuilder
from dsl.build_time import TimeBuilder, slot
from dsl.checker import check_ruleset
from dsl.codegen import AttrSlot, Conditions, Env, Generator, Key, expr_key, python_source
from dsl.errors import Diagnostic, RuleError
from dsl.localtime import zone
from dsl.parser import parse_ruleset
from dsl.printer import expr_text
from dsl.vocabulary import CURRENCIES


def compile_text(text: str, file: str = "<rules>") -> tuple[M.CompiledRuleset, list[Diagnostic]]:
    """Parse, check and compile one rule file; raises RuleError with every diagnostic
    when there is an error, and returns the warnings otherwise."""
    tree = parse_ruleset(text, file)
    diagnostics = check_ruleset(tree)
    if any(d.severity == "error" for d in diagnostics):
        raise RuleError(diagnostics)
    return compile_ruleset(tree, file=file, source=text), diagnostics


def compile_ruleset(tree: A.Ruleset, *, file: str, source: str) -> M.CompiledRuleset:
    """The compiled form of a tree that passed the checker."""
    # Compiling allocates many small objects that all live until the end: the cyclic
    # collector would only rescan them (a fifth of the time on large files).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _Compiler(tree, file).ruleset(source)
    finally:
        if paused:
            gc.enable()


def fingerprint(canon: object) -> str:
    """A digest of a canonical value: nested tuples of plain values (no sets)."""
    return hashlib.sha256(repr(canon).encode()).hexdigest()[:32]


class _Compiler:
    """One ruleset's compilation: the resolved header, the code generator, the filters."""

    def __init__(self, tree: A.Ruleset, file: str) -> None:
        self.tree, self.file = tree, file
        self.id = tree.header.ruleset_id.value
        self.tz_name = tree.header.timezone.value
        self.tz = zone(self.tz_name)
        self.currency = tree.header.currency.text
        self.k = CURRENCIES[self.currency]
        self.time = TimeBuilder(self.tz)
        self.rewards = RewardBuilder(self.k, self.time, self._filter)
        self.attributes = tuple(self._attribute(a) for a in _attr_decls(tree))
        slots: dict[str, AttrSlot] = {}
        for a in self.attributes:
            index = sum(1 for s in slots.values() if s.root == a.root)
            slots[f"{a.root}.{a.name}"] = AttrSlot(a.root, index, a.type)
        segments = {s.name.text: (i, s.expr) for i, s in enumerate(tree.segments)}
        self.env = Env(self.tz, self.k, slots, segments)
        self.gen = Generator(self.env, f"<promo {file}>")
        self.filter_info: dict[str, tuple[str, bool]] = {}  # text -> function, item only
        self.filters: dict[str, M.ItemFilter] = {}  # canonical text -> the shared filter
        self.filter_meanings: dict[str, Key] = {}
        self.filter_texts: dict[int, str] = {}  # id of an `on items where` expression -> text
        self.used_filters: list[str] = []  # by the campaign being built
        self.segment_meanings: dict[str, Key] = {}

    # -- the whole file --

    def ruleset(self, source: str) -> M.CompiledRuleset:
        campaigns = self.tree.campaigns
        conditions = [_conditions(c) for c in campaigns]
        self.gen.add_check_all(conditions, [c.name.text for c in campaigns])
        for i, cond in enumerate(conditions):
            self.gen.add_check(f"check_{i}", cond)
        for c in campaigns:
            for expr in _filters(c):
                self._register_filter(expr)
        namespace, module = self.gen.build()
        self.filters = {
            text: M.ItemFilter(f"{self.id}:{text}", text, item_only, namespace[name])
            for text, (name, item_only) in self.filter_info.items()
        }
        built = tuple(
            self.campaign(c, i, conditions[i], namespace[f"check_{i}"])
            for i, c in enumerate(campaigns)
        )
        canon = (self.id, self.tz_name, self.currency, self.k, repr(self.attributes))
        return M.CompiledRuleset(
            id=self.id,
            file=self.file,
            source=source,
            timezone=self.tz_name,
            currency=self.currency,
            minor_units=self.k,
            attributes=self.attributes,
            campaigns=built,
            bind=make_binder(self.attributes, self.k),
            check_all=namespace["check_all"],
            passing_all=namespace["passing_all"],
            fingerprint=fingerprint((canon, tuple(c.fingerprint for c in built))),
            generated_source=python_source(module),
            positions={c.name.text: (c.name.span.line, c.name.span.column) for c in campaigns},
        )

    def _register_filter(self, expr: A.Expr) -> None:
        text = self.filter_texts[id(expr)] = expr_text(expr)
        if text not in self.filter_info:
            name = f"filter_{len(self.filter_info)}"
            self.gen.add_filter(name, expr)
            self.filter_info[text] = (name, _item_only(expr, self.env))
            self.filter_meanings[text] = self.meaning(expr)

    # -- declarations --

    def _attribute(self, decl: A.AttrDecl) -> M.AttributeDecl:
        type_name = ("list of " if decl.type.is_list else "") + decl.type.name.text
        default = None if decl.default is None else self._default(type_name, decl.default)
        root: Any = decl.root.text
        return M.AttributeDecl(root, decl.name.text, type_name, default)

    def _default(self, type_name: str, value: A.Expr | A.DefaultList) -> Any:
        if isinstance(value, A.DefaultList):
            element = type_name.removeprefix("list of ")
            return tuple(self._default(element, v) for v in value.items)
        match value:
            case A.NumberLit(value=number):
                if type_name == "money":
                    return self.rewards.money(number)
                return number if type_name == "decimal" else int(number)
            case A.DateTimeLit(value=when):
                return self.time.instant(when)
            case A.DurationLit(seconds=seconds):
                return seconds
            case A.StringLit(value=text) | A.BoolLit(value=text):
                return text
        raise TypeError(f"unexpected default {type(value).__name__}")

    # -- fingerprints --

    def meaning(self, expr: A.Expr) -> Key:
        """An expression's key with segments expanded and attributes typed (fingerprints)."""
        return expr_key(expr, self._path_meaning)

    def _path_meaning(self, path: A.Path) -> Key:
        text = path.text
        if text in self.env.segments:
            if text not in self.segment_meanings:
                digest = fingerprint(self.meaning(self.env.segments[text][1]))
                self.segment_meanings[text] = ("segment", digest)
            return self.segment_meanings[text]
        if text in self.env.attrs:
            decl = next(a for a in self.attributes if f"{a.root}.{a.name}" == text)
            return ("attribute", text, decl.type, repr(decl.default))
        return ("path", path.parts)

    # -- campaigns (LANGUAGE.md 3.4) --

    def campaign(self, c: A.Campaign, index: int, cond: Conditions, check: M.Check) -> M.Campaign:
        items, rewards = c.items, self.rewards
        by = _by_type(items)
        (window,) = by[A.WindowItem]  # the checker requires exactly one
        group, stage, priority, referral, discount, lottery, tier, goal = (
            by.get(kind, (None,))[0] for kind in _SINGLE_ITEMS
        )
        cid = c.name.text
        stage_word: Any = stage.word.text if stage else "platform"
        parts: dict[str, Any] = {
            "id": cid,
            "title": c.title.value if c.title else None,
            "ruleset_id": self.id,
            "tier": _word(tier),
            "goal": _word(goal),
            "window": self.time.window(window),
            "schedule": tuple(slot(i) for i in items if isinstance(i, _SCHEDULES)),
            "priority": priority.value.value if priority else 0,
            # Unique across rulesets; `/` and `#` keep a group and a lone campaign apart.
            "group": f"{self.id}/{group.name.text}" if group else f"{self.id}#{cid}",
            "group_name": group.name.text if group else None,
            "stage": stage_word,
            "referral": referral.event.value if referral else None,
            "limits": rewards.limits(by.get(A.LimitItem, ())),
            "budgets": rewards.budgets(by.get(A.BudgetItem, ())),
            "kind": "automatic" if discount else "lottery" if lottery else "coupons",
            "discount": rewards.terms(discount.items) if discount else None,
            "rewards": tuple(rewards.reward(b) for b in items if isinstance(b, _REWARDS)),
            "lottery": rewards.lottery(lottery) if lottery else None,
        }
        # Model reprs are plain and ordered; what they do not show is the meaning of the
        # segments that conditions and filters read, added as keys.
        canon = (
            self.tz_name,
            self.currency,
            self.k,
            repr(tuple(parts.values())),
            tuple(self.meaning(w) for w in cond.whens),
            tuple(self.meaning(d) for d in cond.denies),
            tuple(self.filter_meanings[t] for t in self.used_filters),
        )
        self.used_filters.clear()
        return M.Campaign(index=index, check=check, fingerprint=fingerprint(canon), **parts)

    def _filter(self, expr: A.Expr) -> M.ItemFilter:
        text = self.filter_texts[id(expr)]
        self.used_filters.append(text)
        return self.filters[text]


_SCHEDULES = (A.DailyItem, A.WeeklyItem, A.MonthlyItem)
_SINGLE_ITEMS = (
    A.GroupItem, A.StageItem, A.PriorityItem, A.ReferralItem, A.DiscountBlock, A.LotteryBlock,
    A.TierItem, A.GoalItem,
)  # fmt: skip
_REWARDS = (A.CouponBlock, A.PackBlock)


def _by_type(items: Iterable[object]) -> dict[type, list[Any]]:
    found: dict[type, list[Any]] = {}
    for i in items:
        found.setdefault(type(i), []).append(i)
    return found


def _attr_decls(tree: A.Ruleset) -> tuple[A.AttrDecl, ...]:
    return tree.context.attrs if tree.context else ()


def _conditions(c: A.Campaign) -> Conditions:
    whens = tuple(i.expr for i in c.items if isinstance(i, A.WhenItem))
    return Conditions(whens, tuple(i.expr for i in c.items if isinstance(i, A.DenyItem)))


def _filters(c: A.Campaign) -> list[A.Expr]:
    """Every `on items where` of a campaign: discount, coupons, packs, coupon prizes."""
    found: list[A.Expr] = []
    stack: list[object] = list(c.items)
    while stack:
        node = stack.pop()
        if isinstance(node, A.OnItems):
            found.append(node.expr)
        elif isinstance(node, A.DiscountBlock | A.CouponBlock | A.PackBlock | A.LotteryBlock):
            stack.extend(node.items)
        elif isinstance(node, A.Prize) and isinstance(node.kind, A.PrizeCoupon):
            stack.extend(node.kind.items)
    return found


def _item_only(expr: A.Expr, env: Env) -> bool:
    """Reads only `item.…` fields and literals (LANGUAGE.md 5.5)."""
    from dsl.codegen import AGGREGATES, children

    stack = [expr]
    while stack:
        x = stack.pop()
        if isinstance(x, (A.RuntimeList, *AGGREGATES)) or (
            isinstance(x, A.Path) and x.parts[0] != "item"
        ):
            return False
        stack.extend(children(x))
    return True


def _word(item: A.TierItem | A.GoalItem | None) -> str | None:
    return item.word.text if item else None
