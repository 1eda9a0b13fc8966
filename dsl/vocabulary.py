"""The fixed words of the rule language (LANGUAGE.md 2.3, 3, 4, 13): one table each, shared
by the checker (did-you-mean, reserved names), the compiler (field types) and the engine."""

from __future__ import annotations

from typing import Final, Literal

KEYWORDS: Final = frozenset(
    """
    after all and any at budget buy campaign cap claim context count coupon currency daily
    deny discount every false for free get gift goal group guarantee in items limit list
    lottery min misses monthly not of off on or otherwise pack per points priority prize qty
    referral ruleset save segment shipping spend stage stock sum tier tiers timezone true
    until valid value weekly weight when where window
    """.split()
)

ROOTS: Final = ("user", "cart", "item", "channel", "region", "device", "ip", "now", "referral")
"""Context roots (LANGUAGE.md 2.3): they may not name a segment."""

BARE_ROOTS: Final = ("channel", "region", "ip", "now")
"""Roots without sub-fields: usable bare in expressions."""

DECLARABLE_ROOTS: Final = ("user", "item", "cart")

# Expression types (LANGUAGE.md 5.3). Declared types map onto them: int, decimal and money
# are all `number`; `list of int` is `list of number`.
ExprType = Literal[
    "bool", "number", "string", "datetime", "duration", "list of string", "list of number"
]

# Declared attribute types (LANGUAGE.md 3.2, 13.3) -> expression type.
ATTRIBUTE_TYPES: Final[dict[str, ExprType]] = {
    "bool": "bool",
    "int": "number",
    "decimal": "number",
    "money": "number",
    "string": "string",
    "datetime": "datetime",
    "duration": "duration",
    "list of string": "list of string",
    "list of int": "list of number",
}
TYPE_WORDS: Final = ("bool", "int", "decimal", "money", "string", "datetime", "duration")
LIST_ELEMENT_TYPES: Final = ("string", "int")

# Built-in fields (LANGUAGE.md 4): path -> declared type (the kind of value a request sends).
# `item.*` fields exist only inside item expressions (5.5).
BUILTIN_FIELDS: Final[dict[str, str]] = {
    "user.id": "string",
    "user.level": "int",
    "user.tags": "list of string",
    "user.is_new": "bool",
    "user.phone_verified": "bool",
    "user.risk_score": "int",
    "user.registered_at": "datetime",
    "user.account_age": "duration",
    "cart.total": "money",
    "cart.shipping": "money",
    "cart.currency": "string",
    "item.sku": "string",
    "item.category": "string",
    "item.shop": "string",
    "item.price": "money",
    "item.qty": "int",
    "item.tags": "list of string",
    "channel": "string",
    "region": "string",
    "device.id": "string",
    "ip": "string",
    "now": "datetime",
    "referral.event": "string",
    "referral.inviter": "string",
    "referral.invitee": "string",
    "referral.invitee_device": "string",
}

TIERS: Final = ("S", "A", "B", "C")
GOALS: Final = ("acquisition", "conversion", "retention", "repurchase", "referral", "brand")
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO 1..7
SCOPES: Final = ("user", "device", "ip")
PERIODS: Final = ("day", "week", "month")
STAGES: Final = ("item", "shop", "platform")

# LANGUAGE.md 13.2: currency -> minor units.
CURRENCIES: Final[dict[str, int]] = {
    "CNY": 2, "HKD": 2, "TWD": 2, "JPY": 0, "KRW": 0, "VND": 0,
    "SGD": 2, "MYR": 2, "THB": 2, "IDR": 2, "PHP": 2, "INR": 2,
    "AED": 2, "USD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "CAD": 2,
}  # fmt: skip

CLAIM_REASONS: Final = (
    "not_started", "ended", "outside_schedule", "paused", "not_eligible", "denied",
    "user_limit", "device_limit", "ip_limit", "out_of_stock", "budget_exhausted",
)  # fmt: skip
REDEEM_REASONS: Final = (
    "unknown_code", "not_owner", "already_redeemed", "not_yet_valid", "expired",
    "no_applicable_items", "below_min_spend",
)  # fmt: skip
REVERT_REASONS: Final = ("unknown_code", "not_redeemed")
REQUEST_ERRORS: Final = (
    "unknown_campaign", "unknown_reward", "reward_required", "not_claimable",
    "invalid_request", "key_reused",
)  # fmt: skip

# Resource bounds (issue #2): clear errors instead of RecursionError or a hang.
MAX_FILE_BYTES: Final = 1 << 20
MAX_NESTING: Final = 64
MAX_CAMPAIGNS: Final = 10_000
