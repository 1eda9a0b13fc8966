"""The invariant checker: did anything break under load?

Read straight from the store (loadtests/storeview.py) and compared with the rules and
with what the clients saw (loadtests/records.py):

- per reward (or prize) and period, issued ≤ stock; no user, device or IP over a limit;
  no budget exceeded: both as the log recounts it (loadtests/ledger.py) and as the
  counters hold it, and the two must agree;
- every claim a client saw acknowledged is in the log exactly once, and nothing is in
  the log that no client asked for (loadtests/reconcile.py);
- redemptions: only issued codes, by their owner, never twice without a revert between;
- no 5xx answer reached a client.

    report = check("redis://127.0.0.1:6380/0", records=Path("reports/.../records"))
    assert report.ok, report.violations
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl.model import Campaign, CompiledRuleset
from engine.codes import route_tag
from engine.context import normalise_ip
from engine.money import format_money
from engine.store import Scope
from loadtests.ledger import Quota, quota_of, recount
from loadtests.reconcile import reconcile
from loadtests.records import ClientRecords
from loadtests.storeview import StoreView

_KIND = {"stock": "oversold", "limit": "limit_exceeded", "budget": "budget_exceeded"}


@dataclass(frozen=True)
class Violation:
    kind: str  # oversold, limit_exceeded, budget_exceeded, counter_mismatch, missing_claim ...
    campaign: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.campaign}: {self.detail}"


@dataclass(frozen=True)
class QuotaRow:
    """Claims issued (or face value spent) against one stock (budget) in one period."""

    campaign: str
    kind: str  # stock or budget
    reward: str  # the reward or prize; `*` for a campaign budget
    period: str  # `all`, or `day:2026-11-11`
    logged: int  # as the log recounts it
    counter: int  # as the store's counter holds it
    limit: int
    minor_units: int = 2

    def amount(self, value: int) -> str:
        return str(value) if self.kind == "stock" else format_money(value, self.minor_units)


@dataclass
class InvariantReport:
    violations: list[Violation] = field(default_factory=list)
    quotas: list[QuotaRow] = field(default_factory=list)
    claims_logged: Counter[str] = field(default_factory=Counter)  # by campaign
    redemptions: int = 0
    reverts: int = 0
    acknowledged: int | None = None  # acknowledged answers (replays included), with records
    sent: int | None = None
    server_errors: Counter[str] = field(default_factory=Counter)  # "name status" -> count
    store_checked: bool = True  # False: only the clients' records were (no store to read)

    @property
    def ok(self) -> bool:
        return not self.violations


def check(
    store_url: str,
    *,
    prefix: str = "promo:",
    rulesets: Sequence[CompiledRuleset] | None = None,
    records: Path | ClientRecords | None = None,
) -> InvariantReport:
    """Check the store at `store_url` against `rulesets` (default: the active versions it
    holds) and, when given, the clients' records (a folder, or records already read)."""
    view = StoreView(store_url, prefix)
    try:
        return check_view(view, rulesets, records)
    finally:
        view.close()


def check_records(records: Path | ClientRecords) -> InvariantReport:
    """What can be checked without the store: 5xx answers and the clients' anomalies."""
    report = InvariantReport(store_checked=False)
    _check_records(report, [], records, against_log=False)
    return report


def check_view(
    view: StoreView,
    rulesets: Sequence[CompiledRuleset] | None,
    records: Path | ClientRecords | None,
) -> InvariantReport:
    report = InvariantReport()
    all_claims: list[dict[str, Any]] = []
    for ruleset in rulesets if rulesets is not None else view.active_rulesets():
        logs: dict[str, list[dict[str, Any]]] = {}
        for campaign in ruleset.campaigns:
            if campaign.kind == "automatic":
                continue
            scope = Scope(ruleset.id, campaign.id, route_tag(campaign.id))
            if scope.tag not in logs:
                logs[scope.tag] = view.log(scope.tag)
            entries = [
                e for e in logs[scope.tag]
                if e.get("campaign") == campaign.id and e.get("ruleset") == ruleset.id
            ]  # fmt: skip
            claims = [e for e in entries if e.get("type") == "claim"]
            all_claims += claims
            report.claims_logged[campaign.id] = len(claims)
            _check_quotas(report, ruleset, campaign, claims, view.counters(scope))
            _check_redemptions(report, campaign.id, entries)
    if records is not None:
        _check_records(report, all_claims, records)
    return report


def _check_quotas(
    report: InvariantReport,
    ruleset: CompiledRuleset,
    campaign: Campaign,
    claims: list[dict[str, Any]],
    counters: dict[str, int],
) -> None:
    counted = recount(campaign, ruleset.tz, claims)
    keys = set(counted.used) | {k for k in counters if quota_of(campaign, k) is not None}
    for key in sorted(keys):
        quota = counted.quotas.get(key) or quota_of(campaign, key)
        assert quota is not None
        used, held = counted.used.get(key, 0), counters.get(key, 0)
        if quota.limit is not None and max(used, held) > quota.limit:
            report.violations.append(
                Violation(_KIND[quota.kind], campaign.id, _over(key, quota, used, held))
            )
        if used != held:
            detail = f"{key}: the log recounts {used}, the counter holds {held}"
            report.violations.append(Violation("counter_mismatch", campaign.id, detail))
        if quota.kind in ("stock", "budget") and quota.limit is not None:
            reward, _, period = key[2:].partition(":")
            report.quotas.append(QuotaRow(
                campaign.id, quota.kind, reward, period, used, held, quota.limit,
                ruleset.minor_units,
            ))  # fmt: skip


def _over(key: str, quota: Quota, used: int, held: int) -> str:
    return f"{quota.what} ({key}): the log has {used}, the counter {held}, at most {quota.limit}"


def _check_redemptions(
    report: InvariantReport, campaign: str, entries: list[dict[str, Any]]
) -> None:
    """Replay redeems and reverts over the coupons the campaign's claims issued."""
    owner: dict[str, str] = {}
    redeemed: set[str] = set()
    problems: list[str] = []
    for entry in entries:
        kind, code = entry.get("type"), str(entry.get("code", ""))
        if kind == "claim":
            for issued in entry.get("codes") or ():
                if issued in owner:
                    problems.append(f"code {issued} was issued twice")
                owner[issued] = str(entry.get("user"))
        elif kind == "redeem":
            report.redemptions += 1
            if code not in owner:
                problems.append(f"code {code} was redeemed but never issued")
            elif owner[code] != str(entry.get("user")):
                problems.append(f"code {code} of {owner[code]} was redeemed as {entry.get('user')}")
            if code in redeemed:
                problems.append(f"code {code} was redeemed twice without a revert between")
            redeemed.add(code)
        elif kind == "revert":
            report.reverts += 1
            if code not in redeemed:
                problems.append(f"code {code} was reverted while not redeemed")
            redeemed.discard(code)
    report.violations += [Violation("redemption", campaign, p) for p in problems]


def _check_records(
    report: InvariantReport,
    claims: list[dict[str, Any]],
    records: Path | ClientRecords,
    *,
    against_log: bool = True,
) -> None:
    if isinstance(records, Path):
        records = ClientRecords.load(records, _normal_ip)
    report.acknowledged, report.sent = records.ack_count, records.sent_count
    for (name, status), count in sorted(records.server_errors.items()):
        report.server_errors[f"{name} {status}"] += count
        report.violations.append(
            Violation("server_error", name, f"{count} answer(s) with status {status}")
        )
    if against_log:
        report.violations += [Violation(*problem) for problem in reconcile(claims, records)]
    else:
        report.violations += [Violation("client_anomaly", "-", t) for t in records.conflicts]


def _normal_ip(ip: str) -> str:
    try:
        return normalise_ip(ip)[0]
    except ValueError:
        return ip
