"""The compiled ruleset: what the engine runs (the compiler's output, LANGUAGE.md 3-8).

Everything here is resolved: instants are unix seconds, money is integer minor units of
the ruleset's currency, percentages are exact `Fraction`s (12.5% is Fraction(25, 2)),
words are checked enums, and conditions are Python callables that `compiler.py` built
from the rule text with the `ast` module. Nothing carries a source span, so the compiled
form of a file and of its formatted text compare equal (see `CompiledRuleset.fingerprint`).

Callables read a validated `Context`, the ruleset's typed attributes `Bound`, and the
runtime lists `Lists` (dsl/context.py):

- `Campaign.check(ctx, bound, lists) -> int`: OK, NOT_ELIGIBLE (a `when` fails) or
  DENIED (a `deny when` holds), in that order; referral, window, schedule and pause are
  the engine's checks, not the compiled ones.
- `CompiledRuleset.check_all(ctx, bound, lists) -> list[int]`: the same for every
  campaign in file order, from one generated function that computes shared values
  (fields, segments, per-cart aggregates) once.
- `CompiledRuleset.passing_all(ctx, bound, lists) -> list[str]`: the ids of the
  campaigns whose `check_all` status is OK, in file order, from the same generated code.
- `ItemFilter.test(item, ctx, bound, lists) -> bool`: an `on items where` condition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from dsl.context import Bound, Context, Item, Lists
from dsl.localtime import zone

OK = 0
NOT_ELIGIBLE = 1
DENIED = 2

Stage = Literal["item", "shop", "platform"]
STAGES: tuple[Stage, ...] = ("item", "shop", "platform")
Scope = Literal["user", "device", "ip"]

Check = Callable[[Context, Bound, Lists], int]
CheckAll = Callable[[Context, Bound, Lists], Sequence[int]]
PassingAll = Callable[[Context, Bound, Lists], list[str]]
ItemTest = Callable[[Item, Context, Bound, Lists], bool]
Binder = Callable[[Context], Bound]


# --- time ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """What a quota counts within (LANGUAGE.md 6.3): a local `day`, ISO `week`, calendar
    `month`, or fixed windows of `seconds` on the local wall clock."""

    kind: Literal["day", "week", "month", "seconds"]
    seconds: int = 0

    @property
    def label(self) -> str:
        return self.kind if self.kind != "seconds" else f"{self.seconds}s"


@dataclass(frozen=True, slots=True)
class Window:
    """Both ends included, unix seconds."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Slot:
    """One schedule item (LANGUAGE.md 6.2). `days` are ISO weekdays 1-7 for weekly, days of
    month 1-31 for monthly, empty for daily. `ranges` are (start, end) seconds of the local
    day, end < start running past midnight; empty means the whole day."""

    kind: Literal["daily", "weekly", "monthly"]
    days: frozenset[int]
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Validity:
    """How long an issued coupon is valid (LANGUAGE.md 6.4).
    `after`: from the claim for `seconds`; `until`: from the claim to `end`;
    `range`: from `start` to `end`; `window`: from the claim to the campaign window end."""

    kind: Literal["after", "until", "range", "window"]
    seconds: int = 0
    start: int = 0
    end: int = 0


# --- quotas -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    scope: Scope
    count: int
    period: Period | None


@dataclass(frozen=True, slots=True)
class Stock:
    count: int
    period: Period | None


@dataclass(frozen=True, slots=True)
class Budget:
    amount: int
    period: Period | None


# --- benefits (LANGUAGE.md 7.1) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Save:
    """A tier's save: an amount (minor units) or a percentage of the applicable amount."""

    amount: int | None = None
    percent: Fraction | None = None


@dataclass(frozen=True, slots=True)
class ValueOff:
    amount: int


@dataclass(frozen=True, slots=True)
class PercentOff:
    percent: Fraction


@dataclass(frozen=True, slots=True)
class SpendTiers:
    tiers: tuple[tuple[int, Save], ...]  # (threshold in minor units, save), increasing


@dataclass(frozen=True, slots=True)
class QtyTiers:
    tiers: tuple[tuple[int, Save], ...]  # (units, save), increasing


@dataclass(frozen=True, slots=True)
class Every:
    step: int
    save: int


@dataclass(frozen=True, slots=True)
class BuyGet:
    buy: int
    get: int
    percent: Fraction  # 100 for `free`


@dataclass(frozen=True, slots=True)
class FreeShipping:
    pass


@dataclass(frozen=True, slots=True)
class Gift:
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Points:
    points: int
    per: int | None  # minor units; None for a flat `points N`


Benefit: TypeAlias = (
    ValueOff | PercentOff | SpendTiers | QtyTiers | Every | BuyGet | FreeShipping | Gift | Points
)


@dataclass(frozen=True, slots=True, eq=False)
class ItemFilter:
    """An `on items where` condition. `key` identifies the condition (equal conditions in
    one ruleset share a key, so evaluate tests them once per line); `text` is its canonical
    source, which a coupon's frozen terms keep; `item_only` is true when it reads only item
    fields and literals (always so for coupons)."""

    key: str
    text: str
    item_only: bool
    test: ItemTest = field(repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ItemFilter) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


@dataclass(frozen=True, slots=True)
class Terms:
    """A benefit with its modifiers: what a discount or a coupon computes."""

    benefit: Benefit
    cap: int | None = None
    min_spend: int | None = None
    filter: ItemFilter | None = None


# --- rewards ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CouponSpec:
    """A coupon a claim issues: a `coupon` reward, one coupon of a pack, or a coupon prize.
    `face_value` is X for `value X off`, else the cap, else None (LANGUAGE.md 7.2)."""

    id: str
    title: str | None
    terms: Terms
    validity: Validity
    face_value: int | None


@dataclass(frozen=True, slots=True)
class Reward:
    """A claimable reward of a coupon campaign: a coupon (one CouponSpec) or a pack (several).
    Its own stocks, budgets and limits; `face_value` sums its coupons' (packs, 7.3)."""

    id: str
    title: str | None
    kind: Literal["coupon", "pack"]
    coupons: tuple[CouponSpec, ...]
    stocks: tuple[Stock, ...]
    budgets: tuple[Budget, ...]
    limits: tuple[Limit, ...]
    face_value: int | None


@dataclass(frozen=True, slots=True)
class Prize:
    id: str
    title: str | None
    kind: Literal["coupon", "points", "physical"]
    coupon: CouponSpec | None
    points: int | None
    weight: int
    stocks: tuple[Stock, ...]

    @property
    def face_value(self) -> int:
        """Coupon prizes count their face value against a budget; others count 0 (8.3)."""
        return (self.coupon.face_value or 0) if self.coupon is not None else 0


@dataclass(frozen=True, slots=True)
class Lottery:
    prizes: tuple[Prize, ...]
    otherwise_text: str | None  # None: no `otherwise`
    otherwise_weight: int
    guarantee: str | None  # prize id
    guarantee_after: int  # misses


@dataclass(frozen=True, slots=True, eq=False)
class Campaign:
    """A campaign as the engine runs it. `kind` is `automatic` (a `discount`), `coupons`
    (coupons and packs) or `lottery`. `group` is unique across rulesets: the ruleset id
    and the group name, or the ruleset id and the campaign id for a group of its own."""

    id: str
    title: str | None
    ruleset_id: str
    index: int
    tier: str | None
    goal: str | None
    window: Window
    schedule: tuple[Slot, ...]
    priority: int
    group: str
    group_name: str | None
    stage: Stage
    referral: str | None
    limits: tuple[Limit, ...]
    budgets: tuple[Budget, ...]
    kind: Literal["automatic", "coupons", "lottery"]
    discount: Terms | None
    rewards: tuple[Reward, ...]
    lottery: Lottery | None
    check: Check = field(repr=False)
    fingerprint: str = ""  # canonical text of the definition; equal campaigns, equal text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Campaign) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def reward(self, reward_id: str) -> Reward | None:
        for r in self.rewards:
            if r.id == reward_id:
                return r
        return None


@dataclass(frozen=True, slots=True)
class AttributeDecl:
    """A declared context attribute (LANGUAGE.md 3.2)."""

    root: Literal["user", "item", "cart"]
    name: str
    type: str  # bool int decimal money string datetime duration "list of string" "list of int"
    default: Any  # in the runtime representation; None when there is no declared default


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRuleset:
    """A compiled `.promo` file. `fingerprint` is a digest of everything that decides
    behaviour (the generated code and every resolved value, no spans): two sources with
    the same fingerprint compile to the same rules."""

    id: str
    file: str
    source: str
    timezone: str
    currency: str
    minor_units: int
    attributes: tuple[AttributeDecl, ...]
    campaigns: tuple[Campaign, ...]
    bind: Binder = field(repr=False)
    check_all: CheckAll = field(repr=False)
    passing_all: PassingAll = field(repr=False)
    fingerprint: str = ""
    generated_source: str = field(default="", repr=False)  # ast.unparse of the generated module
    # Where each campaign's name is written, (line, column): for errors found when loading,
    # such as a campaign id that another loaded ruleset declares (LANGUAGE.md 10.9).
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)  # cached per name

    def campaign(self, campaign_id: str) -> Campaign | None:
        for c in self.campaigns:
            if c.id == campaign_id:
                return c
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompiledRuleset) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)
