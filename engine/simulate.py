"""`promo simulate`: evaluate a sample of carts against rule files before launch, and add
up what each campaign would do: how often it applies, what it costs, how many shoppers
could claim its rewards, how many it nudges, and why it does not apply to the others.

Each line of the sample is one evaluate request (`{"context": ..., "coupons": [...]}`) or
just its context (`{"user": ..., "cart": ...}`), as a storefront would send it. Every
cart is evaluated on one embedded store that starts empty, at one instant. By default
nothing is claimed, so limits, stock and budgets are not used up, and `claimable` says
who could claim. With `claim`, each cart's shopper then claims every reward the answer
lists as available, in file order, so that limits, stock and budgets run down as they
would if every shopper of the sample claimed everything offered: the campaigns' live
counters (engine/dashboard.py) then say what was issued and refused, and the face value
issued is the liability taken on. A line that is not valid JSON or that the engine
refuses (`invalid_request`, ...) is skipped and reported with its number; the others
still count.
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
from dsl.localtime import iso, parse_instant
from dsl.sources import Source
from engine.clock import FixedClock, SystemClock
from engine.engine import Engine
from engine.errors import RequestError
from engine.money import format_money
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
    claimed: bool = False  # every available reward was claimed
    carts: int = 0
    discounted: int = 0  # carts with at least one discount, gift or points
    listed: Decimal = ZERO  # lines' list amounts plus shipping fees
    discount: Decimal = ZERO
    paid: Decimal = ZERO
    campaigns: dict[str, CampaignTally] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    # With claims: each claimable campaign's live counters, plus `face_value_issued`.
    counters: dict[str, dict[str, Any]] = field(default_factory=dict)
    claim_errors: Counter[str] = field(default_factory=Counter)  # request errors, by code

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
            "claimed": self.claimed,
            "carts": self.carts,
            "discounted": self.discounted,
            "listed": str(self.listed),
            "discount": str(self.discount),
            "paid": str(self.paid),
            "campaigns": {c: t.to_json() for c, t in sorted(self.campaigns.items())},
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "counters": dict(sorted(self.counters.items())),
            "claim_errors": dict(self.claim_errors.most_common()),
        }


def request_of(value: Any) -> dict[str, Any]:
    """An evaluate request with explanations, from a request or a bare context."""
    if not isinstance(value, dict):
        raise RequestError("invalid_request", "a line must hold a JSON object")
    request = dict(value) if "context" in value else {"context": value}
    request["explain"] = True
    return request


def claims_of(context: Any, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """A claim request for each reward `answer` lists as available, by the context's
    shopper (LANGUAGE.md 10.2: user, device and IP out of the context, the rest as is)."""
    if not isinstance(context, dict):
        return []
    base = {k: v for k, v in context.items() if k not in ("user", "device", "ip")}
    device = context.get("device")
    requests = []
    for offer in answer["claimable"]:
        if not offer["available"]:
            continue
        request = {"campaign": offer["campaign"], "user": context.get("user"), "context": base}
        if "reward" in offer:
            request["reward"] = offer["reward"]
        if isinstance(device, dict) and device.get("id"):
            request["device"] = device["id"]
        if context.get("ip"):
            request["ip"] = context["ip"]
        requests.append(request)
    return requests


async def simulate(engine: Engine, lines: Iterable[bytes], *, claim: bool = False) -> Simulation:
    """Evaluate every non-blank line with `engine` (loaded, on an empty store, its clock
    at the instant to simulate) and add the answers up; with `claim`, claim what each
    answer offers, then read the claimable campaigns' counters."""
    found = Simulation(claimed=claim)
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
        for claim_request in claims_of(request["context"], answer) if claim else ():
            try:
                await engine.claim(claim_request)
            except RequestError as exc:
                found.claim_errors[exc.code] += 1
    if claim:
        await engine.stats.flush()  # refusals are counted in memory until flushed
        for campaign, tally in sorted(found.campaigns.items()):
            if tally.claimable:
                found.counters[campaign] = await _counters(engine, campaign)
    return found


async def _counters(engine: Engine, campaign_id: str) -> dict[str, Any]:
    """The campaign's live counters, and the face value of all it issued."""
    counters = await engine.counters(campaign_id)
    loaded = engine.registry.campaign(campaign_id)
    assert loaded is not None, campaign_id  # it answered in `claimable`
    campaign = loaded.campaign
    faces = {r.id: r.face_value or 0 for r in campaign.rewards}
    if campaign.lottery is not None:
        faces.update({p.id: p.face_value for p in campaign.lottery.prizes})
    issued = counters["issued_by_reward"]
    total = sum(faces.get(name, 0) * n for name, n in issued.items())
    counters["face_value_issued"] = format_money(total, loaded.ruleset.minor_units)
    return counters


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
    sources: Sequence[Source], carts: Path, at: str | None, *, claim: bool = False,
    progress: Console | None = None,
) -> Run:  # fmt: skip
    """Check and load `sources` into an engine on an empty MemoryStore whose clock stands at
    `at` (ISO 8601 with an offset; None: now), then simulate every line of `carts`, with a
    progress bar on `progress` when it is a terminal."""
    report = check_files(sources)
    if report.error_count:
        errors = [d.format() for d, _ in report.items() if d.severity == "error"]
        raise SimulateError([*errors, report.summary()], 1)
    compiled = report.compiled  # every file compiled: there was no error
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
    # A seed: the lottery draws of a claiming simulation come out the same every run.
    engine = Engine(MemoryStore(), FixedClock(now), seed=0)
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

        found = await simulate(engine, lines(), claim=claim)
    return Run(found, iso(now, compiled[0].tz), currencies[0], len(sources))
