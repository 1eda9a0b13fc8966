"""`promo simulate`: evaluate a sample of carts against rule files before launch, and add
up what each campaign would do: how often it applies, what it costs, how many shoppers
could claim its rewards, how many it nudges, and why it does not apply to the others.

Each line of the sample is one evaluate request (`{"context": ..., "coupons": [...]}`) or
just its context (`{"user": ..., "cart": ...}`), as a storefront would send it. Every
cart is evaluated alone on an empty embedded store at one instant: nothing is claimed, so
limits, stock and budgets are not used up, and `claimable` says who could claim. A line
that is not valid JSON or that the engine refuses (`invalid_request`, ...) is skipped and
reported with its number; the others still count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from dsl.checking import check_files
from dsl.compiler import compile_text
from dsl.localtime import iso, parse_instant
from dsl.sources import Source
from engine.clock import FixedClock, SystemClock
from engine.engine import Engine
from engine.errors import RequestError
from engine.store.memory import MemoryStore

ZERO = Decimal(0)


@dataclass(slots=True)
class CampaignTally:
    applied: int = 0  # carts where it gave a discount, a gift or points
    discount: Decimal = ZERO
    gifts: int = 0  # gift units
    points: int = 0
    nudged: int = 0  # carts told how much more to spend for a better tier
    claimable: Counter[str] = field(default_factory=Counter)  # reward ("" for a draw) -> carts
    available: Counter[str] = field(default_factory=Counter)  # reward -> carts it passes for
    reasons: Counter[str] = field(default_factory=Counter)  # why not, over every cart

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "discount": str(self.discount),
            "gifts": self.gifts,
            "points": self.points,
            "nudged": self.nudged,
            "claimable": dict(sorted(self.claimable.items())),
            "available": dict(sorted(self.available.items())),
            "reasons": dict(self.reasons.most_common()),
        }


@dataclass(slots=True)
class Skipped:
    line: int
    reason: str


@dataclass(slots=True)
class Simulation:
    carts: int = 0
    discounted: int = 0  # carts with at least one discount, gift or points
    listed: Decimal = ZERO  # lines' list amounts plus shipping fees
    discount: Decimal = ZERO
    paid: Decimal = ZERO
    campaigns: dict[str, CampaignTally] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)

    def tally(self, campaign: str | None) -> CampaignTally:
        key = campaign or "(unknown code)"
        found = self.campaigns.get(key)
        if found is None:
            found = self.campaigns[key] = CampaignTally()
        return found

    def add(self, answer: dict[str, Any]) -> None:
        """One evaluate answer (LANGUAGE.md 10.1, with explanations)."""
        self.carts += 1
        self.listed += sum((Decimal(line["list"]) for line in answer["lines"]), ZERO)
        self.listed += Decimal(answer["shipping"]["fee"])
        self.discount += Decimal(answer["total_discount"])
        self.paid += Decimal(answer["paid"])
        if answer["discounts"]:
            self.discounted += 1
        for d in answer["discounts"]:
            tally = self.tally(d["campaign"])
            tally.applied += 1
            tally.discount += Decimal(d["amount"])
            tally.gifts += d.get("gift", {}).get("qty", 0)
            tally.points += d.get("points", 0)
        for nudge in answer["nudges"]:
            self.tally(nudge["campaign"]).nudged += 1
        for offer in answer["claimable"]:
            tally, reward = self.tally(offer["campaign"]), offer.get("reward", "")
            tally.claimable[reward] += 1
            if offer["available"]:
                tally.available[reward] += 1
        for why in answer["explanations"]:
            self.tally(why["campaign"]).reasons[why["reason"]] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "carts": self.carts,
            "discounted": self.discounted,
            "listed": str(self.listed),
            "discount": str(self.discount),
            "paid": str(self.paid),
            "campaigns": {c: t.to_json() for c, t in sorted(self.campaigns.items())},
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
        }


def request_of(value: Any) -> dict[str, Any]:
    """An evaluate request with explanations, from a request or a bare context."""
    if not isinstance(value, dict):
        raise RequestError("invalid_request", "a line must hold a JSON object")
    request = dict(value) if "context" in value else {"context": value}
    request["explain"] = True
    return request


async def simulate(engine: Engine, lines: Iterable[bytes]) -> Simulation:
    """Evaluate every non-blank line with `engine` (loaded, on an empty store, its clock
    at the instant to simulate) and add the answers up."""
    found = Simulation()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            request = request_of(orjson.loads(line))
            answer = await engine.evaluate(request)
        except orjson.JSONDecodeError as exc:
            found.skipped.append(Skipped(number, f"not JSON: {exc}"))
            continue
        except RequestError as exc:
            found.skipped.append(Skipped(number, str(exc)))
            continue
        found.add(answer)
    return found


class SimulateError(Exception):
    """The simulation could not run: `lines` say why (diagnostics, or one message), and
    `code` is the exit status (1: the rule files have errors; 2: bad usage)."""

    def __init__(self, lines: list[str], code: int) -> None:
        super().__init__("\n".join(lines))
        self.lines, self.code = lines, code


@dataclass(slots=True)
class Run:
    simulation: Simulation
    at: str  # the simulated instant, in the rules' timezone
    currency: str
    files: int

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "currency": self.currency, "files": self.files,
                **self.simulation.to_json()}  # fmt: skip


async def run_simulation(
    sources: Sequence[Source], carts: Path, at: str | None, progress: Console | None = None
) -> Run:
    """Check and load `sources` into an engine on an empty MemoryStore whose clock stands at
    `at` (ISO 8601 with an offset; None: now), then simulate every line of `carts`, with a
    progress bar on `progress` when it is a terminal."""
    report = check_files(sources)
    if report.error_count:
        errors = [d.format() for d, _ in report.items() if d.severity == "error"]
        raise SimulateError([*errors, report.summary()], 1)
    compiled = [compile_text(s.text, str(s.path))[0] for s in sources]
    currencies = sorted({r.currency for r in compiled})
    if len(currencies) != 1:
        raise SimulateError(
            [f"simulate rule files of one currency at a time; these have {', '.join(currencies)}"
             if currencies else "no rule files to simulate"],
            2,
        )  # fmt: skip
    try:
        now = parse_instant(at) if at is not None else SystemClock().now()
    except ValueError as exc:
        raise SimulateError([f"--at: {exc}"], 2) from None
    try:
        size = carts.stat().st_size
        handle = carts.open("rb")
    except OSError as exc:
        raise SimulateError([f"{carts}: {exc.strerror or exc}"], 2) from None
    engine = Engine(MemoryStore(), FixedClock(now))
    for ruleset in compiled:
        await engine.load(ruleset)
    with handle, Progress(
        TextColumn("simulating"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
        console=progress, disable=progress is None or not progress.is_terminal, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("carts", total=size)

        def lines() -> Iterator[bytes]:
            for line in handle:
                bar.advance(task, len(line))
                yield line

        found = await simulate(engine, lines())
    return Run(found, iso(now, compiled[0].tz), currencies[0], len(sources))
