"""MemoryStore: the counter store in one process (tests, the case runner, `--store memory`).

It behaves as RedisStore does (tests/store/ runs one suite against both): same checks in
the same order, same draw arithmetic, same records and log entries (kept encoded as on
Redis, so reads give back the same values). Each step is one critical section under a
threading.Lock with no await inside: atomic for asyncio tasks and for threads. It keeps no
TTLs: engine time, not wall time, ends periods, and nothing outlives the process anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.store import (
    ClaimResult,
    ClaimStep,
    Counter,
    CouponRecord,
    NewCoupon,
    RedeemResult,
    RedeemStep,
    RevertResult,
    RevertStep,
    Scope,
    Version,
)
from engine.store.keys import (
    KeyLayout,
    claim_entry,
    coupon_entry,
    decode_entry,
    encode_entry,
    packed_entry,
    pairs,
)

_Entry = tuple[tuple[int, int], list[str]]  # (id as (ms, seq), encoded fields)


@dataclass
class _State:
    counters: dict[str, int] = field(default_factory=dict)  # by real key, as on Redis
    records: dict[str, tuple[str, str]] = field(default_factory=dict)  # key: (fp, result)
    coupons: dict[str, CouponRecord] = field(default_factory=dict)
    logs: dict[str, list[_Entry]] = field(default_factory=dict)  # by routing tag
    entries: int = 0
    terms: dict[str, str] = field(default_factory=dict)
    lists: dict[str, set[str]] = field(default_factory=dict)
    list_changes: int = 0
    paused: set[tuple[str, str]] = field(default_factory=set)
    pause_changes: int = 0
    versions: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    stats: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    clock_mode: str | None = None


class MemoryStore:
    """The CounterStore in memory. `open_store("memory")` builds one."""

    def __init__(self, prefix: str = "promo:") -> None:
        self._keys = KeyLayout(prefix)
        self._lock = threading.Lock()
        self._s = _State()

    # the hot path

    async def claim(self, step: ClaimStep, now: int) -> ClaimResult:
        with self._lock:
            return self._claim(step, now)

    def _claim(self, step: ClaimStep, now: int) -> ClaimResult:
        scope = step.scope
        record_key = self._keys.idempotency(scope, step.user, step.key) if step.key else ""
        record = self._s.records.get(record_key)
        if record is not None:
            fingerprint, result = record
            if fingerprint == step.fingerprint:
                return ClaimResult("replayed", result=result)
            return ClaimResult("key_reused")
        if step.refusal is not None:
            return ClaimResult("rejected", step.refusal)
        full = self._first_full(scope, step.checks, {})
        if full is not None:
            return ClaimResult("rejected", full.reason)
        picked = self._choose(step)
        if isinstance(picked, str):
            return ClaimResult("rejected", picked)
        chosen, draw = picked
        coupons = step.outcomes[chosen].coupons
        if any(self._keys.coupon(scope.tag, c.code) in self._s.coupons for c in coupons):
            return ClaimResult("code_taken")
        self._commit(step, chosen, draw, record_key, now)
        return ClaimResult("issued", result=step.outcomes[chosen].result, outcome=chosen)

    def _choose(self, step: ClaimStep) -> tuple[int, dict[str, Any] | None] | str:
        """The outcome (and the draw's log) once the checks passed, or the refusal: the
        only outcome needs room in its own counters too."""
        pending: dict[str, int] = {}
        for c in step.checks:
            key = self._keys.counter(step.scope, c.key)
            pending[key] = pending.get(key, 0) + c.amount
        if step.draw is not None:
            return self._draw(step, pending) or "out_of_stock"
        only = step.outcomes[0]
        full = self._first_full(step.scope, (*only.counters, *only.budget), pending)
        return full.reason if full is not None else (0, None)

    def _current(self, key: str, pending: Mapping[str, int]) -> int:
        return self._s.counters.get(key, 0) + pending.get(key, 0)

    def _first_full(
        self, scope: Scope, counters: Sequence[Counter], pending: Mapping[str, int]
    ) -> Counter | None:
        """The first counter without room for its amount, on top of what the step takes."""
        extra: dict[str, int] = {}
        for c in counters:
            key = self._keys.counter(scope, c.key)
            if self._current(key, pending) + extra.get(key, 0) + c.amount > c.limit:
                return c
            extra[key] = extra.get(key, 0) + c.amount
        return None

    def _draw(
        self, step: ClaimStep, pending: Mapping[str, int]
    ) -> tuple[int, dict[str, Any]] | None:
        """LANGUAGE.md 7.4, with the arithmetic of claim.lua: pity, then u * total."""
        d, outcomes, scope = step.draw, step.outcomes, step.scope
        assert d is not None
        prizes = outcomes[:-1] if d.otherwise else outcomes
        available = [self._first_full(scope, (*o.counters, *o.budget), pending) is None
                     for o in prizes]  # fmt: skip
        weights = [o.weight if ok else 0 for o, ok in zip(prizes, available, strict=True)]
        if d.otherwise:  # unavailable prizes' weight goes to `otherwise`
            spare = sum(o.weight for o in prizes) - sum(weights)
            weights.append(outcomes[-1].weight + spare)
        g = d.guarantee
        pity = self._current(self._keys.counter(scope, d.pity_key), pending)
        if g is not None and g < len(available) and available[g] and pity >= d.after:
            return g, {"weights": weights, "outcome": g, "pity": True}
        chosen = _pick(weights, d.u, d.otherwise)
        if chosen is None:
            return None
        return chosen, {"weights": weights, "outcome": chosen, "pity": False}

    def _commit(
        self, step: ClaimStep, chosen: int, draw: dict[str, Any] | None, record_key: str, now: int
    ) -> None:
        s, scope, outcome = self._s, step.scope, step.outcomes[chosen]
        for c in (*step.checks, *outcome.counters, *outcome.budget):
            if c.amount:
                key = self._keys.counter(scope, c.key)
                s.counters[key] = s.counters.get(key, 0) + c.amount
        if step.draw is not None and step.draw.guarantee is not None:
            key = self._keys.counter(scope, step.draw.pity_key)
            s.counters[key] = 0 if chosen == step.draw.guarantee else s.counters.get(key, 0) + 1
        for coupon in outcome.coupons:
            s.coupons[self._keys.coupon(scope.tag, coupon.code)] = _record(step, coupon)
        if record_key:
            s.records[record_key] = (step.fingerprint, outcome.result)
        fields = claim_entry(step, outcome, now)
        if step.draw is not None and draw is not None:
            fields["draw"] = {"u": step.draw.u, **draw, "prize": outcome.prize}
        self._append(scope.tag, packed_entry(fields))  # as claim.lua writes it

    def _append(self, tag: str, flat: list[str]) -> None:
        self._s.entries += 1
        self._s.logs.setdefault(tag, []).append(((0, self._s.entries), flat))

    async def redeem(self, step: RedeemStep, now: int) -> RedeemResult:
        with self._lock:
            return self._redeem(step, now)

    def _redeem(self, step: RedeemStep, now: int) -> RedeemResult:
        key = self._keys.coupon(step.tag, step.code)
        record = self._s.coupons.get(key)
        if record is None:
            return RedeemResult("rejected", "unknown_code")
        if _replays(record, step):
            return RedeemResult("replayed", amount=record.amount, coupon=record)
        reason = _refusal(record, step.user, now)
        if reason is not None:
            return RedeemResult("rejected", reason, coupon=record)
        verdict = step.verdicts.get(record.terms)
        if verdict is None:
            return RedeemResult("need_terms", coupon=record)
        if not (verdict.isascii() and verdict.isdigit()):
            return RedeemResult("rejected", verdict, coupon=record)
        redeemed = replace(record, state="redeemed", order=step.order, amount=int(verdict))
        self._s.coupons[key] = redeemed
        self._append(step.tag, encode_entry(_coupon_entry("redeem", step.log, redeemed, now)))
        return RedeemResult("redeemed", amount=redeemed.amount, coupon=redeemed)

    async def revert(self, step: RevertStep, now: int) -> RevertResult:
        with self._lock:
            key = self._keys.coupon(step.tag, step.code)
            record = self._s.coupons.get(key)
            if record is None:
                return RevertResult("rejected", "unknown_code")
            if record.state != "redeemed":
                return RevertResult("rejected", "not_redeemed", record)
            self._append(step.tag, encode_entry(_coupon_entry("revert", step.log, record, now)))
            issued = replace(record, state="issued", order=None, amount=None)
            self._s.coupons[key] = issued
            return RevertResult("reverted", coupon=issued)

    # reads

    async def counters(self, scope: Scope, keys: Sequence[str]) -> list[int]:
        with self._lock:
            return [self._s.counters.get(self._keys.counter(scope, k), 0) for k in keys]

    async def coupons(self, codes: Sequence[tuple[str, str]]) -> dict[str, CouponRecord]:
        with self._lock:
            found = (self._s.coupons.get(self._keys.coupon(tag, code)) for tag, code in codes)
            return {record.code: record for record in found if record is not None}

    async def pity(self, scope: Scope, key: str) -> int:
        return (await self.counters(scope, [key]))[0]

    # terms, lists, pause states

    async def put_terms(self, terms: Mapping[str, str]) -> None:
        with self._lock:
            self._s.terms.update(terms)

    async def get_terms(self, ids: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return {i: self._s.terms[i] for i in ids if i in self._s.terms}

    async def list_add(self, name: str, values: Sequence[str]) -> None:
        with self._lock:
            self._s.lists.setdefault(name, set()).update(values)
            self._s.list_changes += 1

    async def list_remove(self, name: str, values: Sequence[str]) -> None:
        with self._lock:
            self._s.lists.setdefault(name, set()).difference_update(values)
            self._s.list_changes += 1

    async def list_replace(self, name: str, values: Sequence[str]) -> None:
        with self._lock:
            self._s.lists[name] = set(values)
            self._s.list_changes += 1

    async def lists(self) -> tuple[int, dict[str, frozenset[str]]]:
        with self._lock:
            lists = {name: frozenset(values) for name, values in self._s.lists.items()}
            return self._s.list_changes, lists

    async def set_paused(self, ruleset: str, campaign: str, paused: bool) -> None:
        with self._lock:
            if paused:
                self._s.paused.add((ruleset, campaign))
            else:
                self._s.paused.discard((ruleset, campaign))
            self._s.pause_changes += 1

    async def paused(self) -> tuple[int, frozenset[tuple[str, str]]]:
        with self._lock:
            return self._s.pause_changes, frozenset(self._s.paused)

    async def changes(self) -> tuple[int, int]:
        with self._lock:
            return self._s.list_changes, self._s.pause_changes

    # ruleset versions

    async def add_version(self, ruleset: str, source: str, now: int) -> int:
        with self._lock:
            versions = self._s.versions.setdefault(ruleset, [])
            versions.append((source, now))
            return len(versions)

    async def activate(self, ruleset: str, number: int) -> None:
        with self._lock:
            if not 1 <= number <= len(self._s.versions.get(ruleset, ())):
                raise ValueError(f"ruleset {ruleset!r} has no version {number}")
            self._s.active[ruleset] = number

    async def versions(self, ruleset: str | None = None) -> list[Version]:
        with self._lock:
            names = [ruleset] if ruleset is not None else sorted(self._s.versions)
            return [
                Version(name, n, source, created, self._s.active.get(name) == n)
                for name in names
                for n, (source, created) in enumerate(self._s.versions.get(name, ()), 1)
            ]

    async def active_versions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._s.active)

    # the log and statistics

    async def log(self, scope: Scope, after: str = "0", limit: int = 1000) -> list[dict[str, Any]]:
        ms, _, seq = after.partition("-")
        start = (int(ms), int(seq or 0))
        found: list[dict[str, Any]] = []
        with self._lock:
            for entry_id, flat in self._s.logs.get(scope.tag, ()):
                fields = pairs(flat)
                mine = fields["ruleset"] == scope.ruleset and fields["campaign"] == scope.campaign
                if entry_id > start and mine and len(found) < limit:
                    found.append(decode_entry(f"{entry_id[0]}-{entry_id[1]}", fields))
        return found

    async def add_stats(self, scope: Scope, counts: Mapping[str, int]) -> None:
        with self._lock:
            stats = self._s.stats.setdefault((scope.ruleset, scope.campaign), {})
            for reason, count in counts.items():
                stats[reason] = stats.get(reason, 0) + count

    async def stats(self, scope: Scope) -> dict[str, int]:
        with self._lock:
            return dict(self._s.stats.get((scope.ruleset, scope.campaign), {}))

    async def clock_mode(self) -> str | None:
        with self._lock:
            return self._s.clock_mode

    async def set_clock_mode(self, mode: str) -> None:
        with self._lock:
            self._s.clock_mode = self._s.clock_mode or mode

    # housekeeping

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def drop(self) -> None:
        with self._lock:
            self._s = _State()


def _pick(weights: list[int], u: float, otherwise: bool) -> int | None:
    """The outcome that u falls on, as claim.lua computes it; None: nothing to draw."""
    total = sum(weights)
    if total == 0:
        return len(weights) - 1 if otherwise else None
    pick, acc = u * total, 0
    for i, weight in enumerate(weights):
        acc += weight
        if pick < acc:
            return i
    # Rounding put pick at the total: the last outcome with weight.
    return max(i for i, weight in enumerate(weights) if weight > 0)


def _replays(record: CouponRecord, step: RedeemStep) -> bool:
    """The owner redeems again with the standing redemption's order (LANGUAGE.md 10.4)."""
    standing = record.state == "redeemed" and record.order is not None
    return standing and record.owner == step.user and record.order == step.order


def _refusal(record: CouponRecord, user: str, now: int) -> str | None:
    """LANGUAGE.md 10.4 in order, up to the terms (replays are checked before)."""
    if record.owner != user:
        return "not_owner"
    if record.state == "redeemed":
        return "already_redeemed"
    if now < record.valid_from:
        return "not_yet_valid"
    if now > record.valid_until:
        return "expired"
    return None


def _record(step: ClaimStep, coupon: NewCoupon) -> CouponRecord:
    scope = step.scope
    return CouponRecord(
        code=coupon.code, ruleset=scope.ruleset, campaign=scope.campaign, reward=coupon.reward,
        owner=step.user, terms=coupon.terms, valid_from=coupon.valid_from,
        valid_until=coupon.valid_until, face_value=coupon.face_value, state="issued",
    )  # fmt: skip


def _coupon_entry(
    kind: str, log: Mapping[str, Any], record: CouponRecord, now: int
) -> dict[str, Any]:
    """A redeem or revert entry: the caller's fields, then the record's (as redeem.lua)."""
    fields = coupon_entry(kind, record.code, log, now)
    fields.update(ruleset=record.ruleset, campaign=record.campaign, reward=record.reward,
                  user=record.owner, amount=record.amount)  # fmt: skip
    if record.order is not None:
        fields["order"] = record.order
    return fields
