"""The semantic checks of a parsed rule file: every error and warning of LANGUAGE.md 11
that the grammar cannot express (names, types, values, structure), with did-you-mean.

The parser reports syntax; this module walks the tree once, in file order, so that a
segment sees exactly the segments declared above it, and reports every mistake it finds,
one error per mistake (an expression in error is not checked further).

>>> from dsl.parser import parse_ruleset
>>> tree = parse_ruleset('''ruleset "r" timezone "UTC" currency CNY
... campaign c { window 2026-11-11 .. 2026-11-11  when user.levle >= 1
...              discount { value 10 off } }''')
>>> [d.format() for d in check_ruleset(tree)]
["<rules>:2:52: error: unknown field 'user.levle'; did you mean 'user.level'?"]
"""

from __future__ import annotations

from dataclasses import replace

from dsl import ast
from dsl.crosscheck import check_groups, warn_campaign, warn_unused_segments
from dsl.declarations import Registry, check_reserved
from dsl.errors import Diagnostic
from dsl.header import check_context, check_header
from dsl.names import Resolver, Scope
from dsl.report import Report, keyword_span
from dsl.structure import CampaignEnv, CampaignFacts, check_campaign
from dsl.typecheck import ExprChecker
from dsl.vocabulary import MAX_CAMPAIGNS


def check_ruleset(tree: ast.Ruleset) -> list[Diagnostic]:
    """Every semantic error and warning of `tree`, sorted by position. Never raises.

    The file compiles when no diagnostic is an error."""
    report = Report()
    settings = check_header(tree.header, report)
    fields = check_context(tree.context, settings, report)
    resolver = Resolver(report, fields)
    exprs = ExprChecker(report, resolver)
    _Walk(tree, CampaignEnv(report, settings, exprs, {})).run()
    return sorted(report.diagnostics, key=lambda d: d.sort_key)


class _Walk:
    """Segments and campaigns in file order, then what spans campaigns."""

    def __init__(self, tree: ast.Ruleset, base: CampaignEnv) -> None:
        self.tree = tree
        self.report = base.report
        self.exprs = base.exprs
        # Segments declared so far. Campaigns share this live dict: each is checked
        # before the next segment is added, so it sees exactly the segments above it.
        self.visible: dict[str, int] = {}
        # Every segment's line, so that a use above its declaration can say where it is.
        declared: dict[str, int] = {}
        for segment in tree.segments:
            declared.setdefault(segment.name.text, segment.name.span.line)
        self.env = replace(base, segments=self.visible, declared=declared)
        self.segments: list[ast.Segment] = []
        self.campaigns: list[CampaignFacts] = []

    def run(self) -> None:
        segment_names = Registry("segment", self.report)
        campaign_names = Registry("campaign", self.report)
        for decl in self.tree.decls:
            if isinstance(decl, ast.Segment):
                self._segment(decl, segment_names)
                continue
            campaign_names.add(decl.name)
            self._count(decl)
            self.campaigns.append(check_campaign(decl, self.env))
        check_groups(self.campaigns, self.report)
        for facts in self.campaigns:
            warn_campaign(facts, self.report)
        warn_unused_segments(self.segments, self.exprs.resolver.used_segments, self.report)

    def _segment(self, segment: ast.Segment, names: Registry) -> None:
        name = segment.name
        usable = check_reserved(name, self.report, kind="segment")
        first = names.add(name)
        scope = Scope(f"segment '{name.text}'", self.visible, self.env.declared, in_segment=True)
        self.exprs.clause(segment.expr, scope)
        if first:
            self.visible[name.text] = name.span.line
            if usable:
                self.segments.append(segment)

    def _count(self, campaign: ast.Campaign) -> None:
        """The resource bound of a file (the parser may stop earlier)."""
        if len(self.campaigns) == MAX_CAMPAIGNS:
            self.report.error(
                f"too many campaigns: a ruleset holds at most {MAX_CAMPAIGNS:,}; "
                "split it into several files",
                keyword_span(campaign.span, "campaign"),
            )
