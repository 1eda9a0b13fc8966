"""The end of a load test: locust's figures per endpoint (from its CSV), claims issued
against stock and budget, and the violations, as a table for the terminal and JSON for
benchmarks/bench_sale_day.py."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadtests.invariants import InvariantReport


@dataclass(frozen=True)
class Endpoint:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def read_stats(csv_prefix: Path) -> list[Endpoint]:
    """Rows of locust's `PREFIX_stats.csv`, the `Aggregated` row last (named `all`)."""
    path = csv_prefix.with_name(csv_prefix.name + "_stats.csv")
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [_endpoint(row) for row in csv.DictReader(f)]


def _endpoint(row: dict[str, str]) -> Endpoint:
    return Endpoint(
        "all" if row["Name"] == "Aggregated" else row["Name"],
        int(row["Request Count"]), int(row["Failure Count"]), float(row["Requests/s"]),
        _ms(row["50%"]), _ms(row["95%"]), _ms(row["99%"]),
    )  # fmt: skip


def _ms(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # "N/A" when an endpoint had no request


def total(endpoints: list[Endpoint]) -> Endpoint | None:
    return next((e for e in endpoints if e.name == "all"), None)


def render(title: str, endpoints: list[Endpoint], report: InvariantReport) -> str:
    lines = [title, ""]
    lines.append(f"{'endpoint':<28}{'requests':>10}{'fails':>8}{'req/s':>9}"
                 f"{'p50':>7}{'p95':>7}{'p99':>7}  ms")  # fmt: skip
    lines += [
        f"{e.name:<28}{e.requests:>10,}{e.failures:>8,}{e.rps:>9,.1f}"
        f"{e.p50:>7.0f}{e.p95:>7.0f}{e.p99:>7.0f}"
        for e in endpoints
    ]
    lines.append("")
    if report.store_checked:
        lines += [_quotas(report), ""]
        lines.append(
            f"claims in the log: {sum(report.claims_logged.values()):,} "
            f"({', '.join(f'{c} {n:,}' for c, n in sorted(report.claims_logged.items()))}); "
            f"redemptions {report.redemptions:,}, reverts {report.reverts:,}"
        )
    else:
        lines.append("the store was not checked (no --store): only the clients' records")
    if report.acknowledged is not None:
        lines.append(
            f"clients: {report.sent or 0:,} claim attempts sent, "
            f"{report.acknowledged:,} issued answers (replays included); "
            f"5xx answers: {sum(report.server_errors.values()):,}"
        )
    lines.append(f"violations: {len(report.violations)}")
    lines += [f"  {v}" for v in report.violations[:50]]
    if len(report.violations) > 50:
        lines.append(f"  ... and {len(report.violations) - 50} more (summary.json)")
    return "\n".join(lines)


def _quotas(report: InvariantReport) -> str:
    lines = [
        "claims issued vs stock (and face value vs budget), from the log and the counters",
        f"{'campaign':<14}{'kind':<8}{'reward':<8}{'period':<18}"
        f"{'issued':>12}{'counter':>12}{'of':>12}",
    ]
    lines += [
        f"{q.campaign:<14}{q.kind:<8}{q.reward:<8}{q.period:<18}"
        f"{q.amount(q.logged):>12}{q.amount(q.counter):>12}{q.amount(q.limit):>12}"
        for q in report.quotas
    ]
    return "\n".join(lines)


def as_json(
    options: dict[str, Any], endpoints: list[Endpoint], report: InvariantReport
) -> dict[str, Any]:
    return {
        "options": options,
        "endpoints": [asdict(e) for e in endpoints],
        "store_checked": report.store_checked,
        "violations": [str(v) for v in report.violations],
        "quotas": [asdict(q) for q in report.quotas],
        "claims_logged": dict(report.claims_logged),
        "redemptions": report.redemptions,
        "reverts": report.reverts,
        "acknowledged": report.acknowledged,
        "sent": report.sent,
        "server_errors": dict(report.server_errors),
    }
