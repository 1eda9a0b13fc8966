"""`promo explain`: what a compiled ruleset does, in plain words and local time, then a
pre-launch analysis (analysis.py).

For each campaign, in file order: tier and goal, when it runs, who is eligible and who is
denied, what it gives (face values, validity, stock and budget of each reward), its
limits, and how it stacks (group, stage, priority). Values come from the compiled model;
conditions come from the source, which is parsed again, so they read as written.

`explain_json` is the structured form; `explain_text` prints the same data.
"""

from __future__ import annotations

from typing import Any

from dsl import model as M
from dsl.analysis import Rules, analyse
from dsl.eligibility import Eligibility
from dsl.localtime import iso
from dsl.offers import offers
from dsl.parser import parse_ruleset
from dsl.phrases import budgets, join, limits, slot, span

_LABEL = 10  # width of the labels of the text form


def explain_json(compiled: M.CompiledRuleset, source: str) -> dict[str, Any]:
    """The explanation as JSON-ready data: `campaigns` (one dict each) and `analysis`
    (a list of findings, each with `kind`, `campaigns` and `message`)."""
    words = Eligibility(parse_ruleset(source, compiled.file))
    rules = {
        c.id: Rules(frozenset(words.conditions(c.id)), frozenset(words.denials(c.id)))
        for c in compiled.campaigns
    }
    return {
        "ruleset": compiled.id,
        "file": compiled.file,
        "timezone": compiled.timezone,
        "currency": compiled.currency,
        "campaigns": [_campaign(c, compiled, words) for c in compiled.campaigns],
        "analysis": analyse(compiled, rules),
    }


def explain_text(compiled: M.CompiledRuleset, source: str) -> str:
    """The explanation for a person: one block per campaign, then the analysis."""
    data = explain_json(compiled, source)
    campaigns = data["campaigns"]
    claimable = sum(1 for c in campaigns if c["kind"] != "automatic")
    lines = [
        f"Ruleset {data['ruleset']} ({data['file']}): {_many(len(campaigns), 'campaign')},"
        f" {len(campaigns) - claimable} automatic and {claimable} claimable.",
        f"Times are {data['timezone']} time; amounts are in {data['currency']}.",
    ]
    for c in campaigns:
        lines += ["", *_campaign_lines(c)]
    lines += ["", "Before launch:"]
    lines += [f"  - {f['message']}" for f in data["analysis"]]
    return "\n".join(lines) + "\n"


def _many(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _campaign(c: M.Campaign, compiled: M.CompiledRuleset, words: Eligibility) -> dict[str, Any]:
    tz, k = compiled.tz, compiled.minor_units
    others = [o.id for o in compiled.campaigns if o.group == c.group and o is not c]
    quotas = limits(c.limits) + budgets(c.budgets, k)
    return {
        "id": c.id,
        "title": c.title,
        "kind": c.kind,
        "tier": c.tier,
        "goal": c.goal,
        "window": {"start": iso(c.window.start, tz), "end": iso(c.window.end, tz)},
        "runs": ", ".join([*(slot(s) for s in c.schedule), span(*_ends(c), tz)])
        + f", {compiled.timezone} time",
        "eligible": words.eligible(c.id),
        "conditions": words.conditions(c.id),
        "denied": words.denied(c.id),
        "deny_conditions": words.denials(c.id),
        "referral": _referral(c),
        "offers": offers(c, k, tz),
        "limits": limits(c.limits),
        "budgets": budgets(c.budgets, k),
        "quotas": "; ".join(quotas) if quotas else _no_quotas(c),
        "group": c.group_name,
        "group_with": others,
        "stage": c.stage,
        "priority": c.priority,
        "stacking": _stacking(c, others),
    }


def _ends(c: M.Campaign) -> tuple[int, int]:
    return c.window.start, c.window.end


def _referral(c: M.Campaign) -> str | None:
    if c.referral is None:
        return None
    return (
        f'rewards the inviter when an invited friend\'s "{c.referral}" event is reported;'
        " each friend counts once, and inviting oneself is refused"
    )


def _no_quotas(c: M.Campaign) -> str:
    if c.kind == "automatic":
        return "none: an automatic discount is applied to carts, not claimed"
    return "no campaign-wide limit or budget"


def _stacking(c: M.Campaign, others: list[str]) -> str:
    if c.group_name is None:
        group = "its own group (stacks with every other group)"
    elif others:
        group = f"group {c.group_name} with {join(others)} (one of them per cart)"
    else:
        group = f"group {c.group_name}"
    return f"{group}; stage {c.stage}; priority {c.priority}"


def _campaign_lines(c: dict[str, Any]) -> list[str]:
    title = f' "{c["title"]}"' if c["title"] else ""
    kind = {"automatic": "automatic discount", "coupons": "claimable", "lottery": "lottery"}
    head = [f"{c['id']}{title}: {kind[c['kind']]}"]
    if c["tier"] or c["goal"]:
        head[0] += f", tier {c['tier'] or '-'}, goal {c['goal'] or '-'}"
    rows: list[tuple[str, str]] = [("runs", c["runs"]), ("eligible", c["eligible"])]
    if c["denied"]:
        rows.append(("denied", c["denied"]))
    if c["referral"]:
        rows.append(("referral", c["referral"]))
    for offer in c["offers"]:
        rows.append(("offers", offer["text"]))
        rows += [("", "  " + d) for d in offer.get("details", [])]
    rows += [("quotas", c["quotas"]), ("stacking", c["stacking"])]
    return head + [f"  {label:<{_LABEL}}{text}".rstrip() for label, text in rows]
