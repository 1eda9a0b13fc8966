"""The counter store: one small protocol, two implementations (memory.py, redis.py).

The engine decides everything that needs no shared state (window, rules, which quotas
apply, period ids, codes, the result JSON) and hands the store one *step* that the store
runs atomically: a claim, a redeem or a revert. A step is all the store needs, so that on
Redis it is one Lua script call (one round trip) and in memory one critical section, and
both behave the same (tests/store/ runs one suite against both).

Keys. The engine names counters with *logical keys* (engine/keys.py) inside a campaign's
`Scope`; a store turns them into real keys as `{prefix}{{tag}}:{ruleset}:{campaign}:{key}`
so that every key of one step shares the hash tag `{tag}` (Redis Cluster). `tag` is the
campaign's routing tag, which is also the first characters of every coupon code it issues,
so redeem and revert find the coupon's slot from the code alone.

Time. Every method that depends on time takes `now` (unix seconds from the engine clock).
Period ids are part of logical keys; `expires_at` values only let a store drop keys that no
period will read again (never rely on them to end a period).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from engine.store.shapes import ClaimShape


class StoreUnavailable(Exception):
    """The store cannot be reached, or did not answer in time. Nothing was written, or the
    step ran whole (a script never stops half-way): a client may retry with its key."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a campaign's keys live: its ruleset id, campaign id and routing tag."""

    ruleset: str
    campaign: str
    tag: str


# Counter, NewCoupon, Outcome and ClaimResult may be made for every claim: they are not
# `frozen`, whose __init__ costs an object.__setattr__ call per field (about 0.1 us each on
# CPython 3.11). Treat them as immutable all the same (claim shapes share their Counters
# across claims); unsafe_hash keeps the hash a frozen class has.
@dataclass(slots=True, unsafe_hash=True)
class Counter:
    """One quota: the counter at `key` may take `amount` more only while the total stays at
    most `limit`; otherwise the step is refused with `reason`. Limits count 1 per claim,
    stocks 1 per reward, budgets the face value."""

    key: str
    limit: int
    amount: int
    reason: str
    expires_at: int = 0


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see Counter
class NewCoupon:
    code: str
    reward: str  # the coupon's id: a coupon reward, a pack's coupon, or a coupon prize
    terms: str  # terms id (engine/terms.py): the terms frozen at issue
    valid_from: int
    valid_until: int
    face_value: int


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see Counter
class Outcome:
    """One way a claim can end issued. A coupon or pack claim has one outcome; a lottery
    has one per prize, in prize order, then `otherwise` if the lottery has it.

    For a prize, `counters` are its stocks and `budget` the campaign's budgets with the
    prize's face value as amount: the prize is *available* when all of them have room
    (LANGUAGE.md 7.4). `result` is the issued result's JSON, stored for replays; `log` the
    fields the log entry adds for this outcome (reward or prize, codes, face value)."""

    prize: str | None
    weight: int
    counters: tuple[Counter, ...]
    budget: tuple[Counter, ...]
    coupons: tuple[NewCoupon, ...]
    result: str
    log: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Draw:
    """The lottery part of a claim: `u` is uniform in [0, 1) from `secrets` (or a case's
    seed); `otherwise` tells whether the last outcome is `otherwise`; pity applies when
    `guarantee` is an outcome index, counted in the user's `pity_key` (which a store may
    drop after `pity_expires_at`; 0: never)."""

    u: float
    otherwise: bool
    guarantee: int | None
    after: int
    pity_key: str
    pity_expires_at: int = 0


class ClaimStep:
    """A claim that passed validation (LANGUAGE.md 10.2). In order, the store:

    1. with `key`: if an issued claim of this scope and user has that key, returns it as
       a replay, or `key_reused` when its fingerprint differs; nothing changes;
    2. if `refusal` is set (a rule check failed in the engine), returns it; nothing changes;
    3. checks `checks` in order (user, device and IP limits, then stock and budget): the
       first without room gives its reason;
    4. picks the outcome: the only one, or for a lottery pity then the draw; a lottery with
       nothing to draw is `out_of_stock`;
    5. refuses with `code_taken` if any code of the outcome exists already (the engine
       retries with fresh codes);
    6. commits: adds every counter of `checks` and of the outcome, updates the pity
       counter, stores the coupons, stores the result under the key, appends the log entry.

    Made in one of two ways: whole (`ClaimStep(...)`, as tests and tools do), or
    `planned` from a shared `ClaimShape` and the claim's own values (as the engine does),
    whose `checks` and `outcomes` are made on first read. Treat it as immutable.
    """

    __slots__ = (
        "_checks", "_outcomes", "codes", "draw", "fingerprint", "key", "key_expires_at", "log",
        "refusal", "results", "scope", "shape", "user", "values",
    )  # fmt: skip

    def __init__(
        self, scope: Scope, user: str, key: str | None, fingerprint: str, refusal: str | None,
        checks: tuple[Counter, ...], outcomes: tuple[Outcome, ...], draw: Draw | None,
        log: Mapping[str, Any], key_expires_at: int,
    ) -> None:  # fmt: skip
        self.scope, self.user, self.key, self.fingerprint = scope, user, key, fingerprint
        self._checks: tuple[Counter, ...] | None = checks
        self._outcomes: tuple[Outcome, ...] | None = outcomes
        self.refusal, self.draw, self.log, self.key_expires_at = refusal, draw, log, key_expires_at
        self.shape: ClaimShape | None = None
        self.values: tuple[str, str, str, str] = (user, "", "", "")
        self.codes: tuple[str, ...] = ()
        self.results: tuple[str, ...] = ()

    @classmethod
    def planned(
        cls, shape: ClaimShape, values: tuple[str, str, str, str], key: str | None,
        fingerprint: str, codes: tuple[str, ...], results: tuple[str, ...], draw: Draw | None,
        log: Mapping[str, Any],
    ) -> ClaimStep:  # fmt: skip
        """A step of `shape` for a claim with `values` (user, device, IP scope, invitee),
        `codes` (every coupon of every outcome, in order) and one result per outcome. Its
        `log` has `type`, `time`, `ruleset` and `campaign` as keys.claim_entry sets them
        (the shape's second, its scope), so that a store may write it as it is."""
        step = cls.__new__(cls)
        step.scope, step.user, step.key, step.fingerprint = shape.scope, values[0], key, fingerprint
        step.refusal, step._checks, step._outcomes, step.draw = None, None, None, draw
        step.log, step.key_expires_at, step.shape = log, shape.key_expires_at, shape
        step.values, step.codes, step.results = values, codes, results
        return step

    @property
    def checks(self) -> tuple[Counter, ...]:
        if self._checks is None:
            assert self.shape is not None
            self._checks = self.shape.counters(self.values)
        return self._checks

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        if self._outcomes is None:
            assert self.shape is not None
            codes, results = self.codes, self.results
            self._outcomes = tuple(
                [o.outcome(codes, results[i]) for i, o in enumerate(self.shape.outcomes)]
            )
        return self._outcomes

    def result(self, index: int) -> str:
        """The result of outcome `index`, without making the outcomes of a planned step."""
        return self.results[index] if self.shape is not None else self.outcomes[index].result

    def __repr__(self) -> str:
        return (
            f"ClaimStep({self.scope!r}, user={self.user!r}, key={self.key!r}, "
            f"refusal={self.refusal!r}, checks={self.checks!r}, outcomes={self.outcomes!r}, "
            f"draw={self.draw!r})"
        )


ClaimStatus = Literal["issued", "replayed", "rejected", "key_reused", "code_taken"]


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see Counter
class ClaimResult:
    status: ClaimStatus
    reason: str | None = None
    result: str | None = None  # the stored result JSON for issued and replayed
    outcome: int | None = None  # index into ClaimStep.outcomes for issued


@dataclass(frozen=True, slots=True)
class CouponRecord:
    """An issued coupon as the store keeps it."""

    code: str
    ruleset: str
    campaign: str
    reward: str
    owner: str
    terms: str
    valid_from: int
    valid_until: int
    face_value: int
    state: Literal["issued", "redeemed"]
    order: str | None = None  # the standing redemption's order id
    amount: int | None = None  # the standing redemption's amount


@dataclass(frozen=True, slots=True)
class RedeemStep:
    """A redeem (LANGUAGE.md 10.4). The store checks, in order: the code exists
    (`unknown_code`), `user` owns it (`not_owner`), it is not redeemed (else a replay when
    `order` is set and equals the standing redemption's order, else `already_redeemed`),
    `now` is within its validity (`not_yet_valid`, `expired`); then it looks up the coupon's
    terms id in `verdicts`, which the engine computed for this cart: a reason
    (`no_applicable_items`, `below_min_spend`) refuses, an amount (integer minor units, as
    a decimal string) redeems. A terms id missing from `verdicts` gives `need_terms` with
    the record, and the engine calls again with it."""

    tag: str
    code: str
    user: str
    order: str | None
    verdicts: Mapping[str, str]
    log: Mapping[str, Any]


RedeemStatus = Literal["redeemed", "replayed", "rejected", "need_terms"]


@dataclass(frozen=True, slots=True)
class RedeemResult:
    status: RedeemStatus
    reason: str | None = None
    amount: int | None = None
    coupon: CouponRecord | None = None  # the record after the step; None for unknown_code


@dataclass(frozen=True, slots=True)
class RevertStep:
    """A revert (LANGUAGE.md 10.5): `unknown_code`, `not_redeemed`, else back to issued."""

    tag: str
    code: str
    log: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RevertResult:
    status: Literal["reverted", "rejected"]
    reason: str | None = None
    coupon: CouponRecord | None = None  # the record after the step; None for unknown_code


@dataclass(frozen=True, slots=True)
class Version:
    ruleset: str
    number: int
    source: str
    created_at: int
    active: bool


class CounterStore(Protocol):
    """What the engine needs from shared state, and nothing more."""

    # the hot path: one atomic step each
    async def claim(self, step: ClaimStep, now: int) -> ClaimResult: ...
    async def redeem(self, step: RedeemStep, now: int) -> RedeemResult: ...
    async def revert(self, step: RevertStep, now: int) -> RevertResult: ...

    # reads for evaluate's preview and the operators' counters
    async def counters(self, scope: Scope, keys: Sequence[str]) -> list[int]: ...
    async def coupons(self, codes: Sequence[tuple[str, str]]) -> dict[str, CouponRecord]:
        """Records of the coupons `(tag, code)` that exist, by code."""
        ...

    async def pity(self, scope: Scope, key: str) -> int: ...

    # frozen coupon terms, by terms id (content-addressed, never changed once written)
    async def put_terms(self, terms: Mapping[str, str]) -> None: ...
    async def get_terms(self, ids: Sequence[str]) -> dict[str, str]: ...

    # runtime lists (LANGUAGE.md 10.6) and pause states (10.8)
    async def list_add(self, name: str, values: Sequence[str]) -> None: ...
    async def list_remove(self, name: str, values: Sequence[str]) -> None: ...
    async def list_replace(self, name: str, values: Sequence[str]) -> None: ...
    async def lists(self) -> tuple[int, dict[str, frozenset[str]]]:
        """A change counter and every list; the counter moves on every list change."""
        ...

    async def set_paused(self, ruleset: str, campaign: str, paused: bool) -> None: ...
    async def paused(self) -> tuple[int, frozenset[tuple[str, str]]]:
        """A change counter and the paused (ruleset, campaign) pairs."""
        ...

    async def changes(self) -> tuple[int, int]:
        """The change counters of `lists()` and `paused()`, in one cheap read: a process
        that caches them reloads only what moved."""
        ...

    # ruleset versions (LANGUAGE.md 10.9)
    async def add_version(self, ruleset: str, source: str, now: int) -> int: ...
    async def activate(self, ruleset: str, number: int) -> None: ...
    async def versions(self, ruleset: str | None = None) -> list[Version]: ...
    async def active_versions(self) -> dict[str, int]:
        """The active version's number of every ruleset that has one, without any source:
        what every worker polls (api/versions.py)."""
        ...

    # the issuance and redemption log, and refusal statistics
    async def log(self, scope: Scope, after: str = "0", limit: int = 1000) -> list[dict[str, Any]]:
        """Up to `limit` entries of the campaign's log after entry id `after`, oldest first.
        An entry is its step's `log` mapping (values through JSON) with `id`, `type`,
        `time`, `ruleset`, `campaign`; a claim adds its outcome's `log` and, in a lottery,
        `draw` ({u, weights, outcome, prize, pity}); a redeem or revert adds `code` and the
        coupon's `reward`, `user` (owner), `amount` and `order`."""
        ...

    async def add_stats(self, scope: Scope, counts: Mapping[str, int]) -> None: ...
    async def stats(self, scope: Scope) -> dict[str, int]: ...

    # the clock the data was written with: "system" or "rehearsal" (api/clockmode.py)
    async def clock_mode(self) -> str | None: ...
    async def set_clock_mode(self, mode: str) -> None:
        """Record `mode` unless a mode is recorded already (the first writer's stays)."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...
    async def drop(self) -> None:
        """Delete everything under this store's prefix, and nothing else (the case runner
        gives each case its own prefix)."""
        ...
