"""The JSON of the API as pydantic models: the OpenAPI description, and the validation of
the operator endpoints' bodies.

The storefront's hot routes do not validate through these models: they parse the body
with orjson and let the engine check it (engine/context.py, with the field path in the
error), so a context is checked once. The models here describe exactly what the engine
accepts and answers (LANGUAGE.md 4 and 10). Money is always a string in answers, and a
string or a non-negative integer in requests. Optional request fields are never `null`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

MONEY_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]{1,9})?$"
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["20.00"])]
MoneyIn = Annotated[
    Annotated[str, Field(pattern=MONEY_PATTERN)] | Annotated[int, Field(ge=0)],
    Field(
        description='"19.90" (the currency\'s minor units at most) or an integer',
        examples=["19.90"],
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/]+$")]
Stage = Literal["item", "shop", "platform", "shipping"]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(description: str | None = None) -> Any:
    """An optional field that is absent rather than null (documented without a default)."""
    return Field(default=None, description=description, json_schema_extra=_drop_default)


class Out(BaseModel):
    """Answers may grow fields; clients ignore those they do not know."""

    model_config = ConfigDict(extra="allow")


# --- the context (LANGUAGE.md 4) -------------------------------------------------------------


class User(BaseModel):
    id: str = ""
    level: Annotated[int, Field(ge=0)] = 0
    tags: list[str] = []
    is_new: bool = False
    phone_verified: bool = False
    risk_score: Annotated[int, Field(ge=0, le=100)] = 0
    registered_at: AwareDatetime | SkipJsonSchema[None] = optional()
    attributes: dict[str, Any] = Field(default={}, description="the ruleset's `context` block")


class Item(BaseModel):
    sku: str
    price: MoneyIn
    qty: Annotated[int, Field(ge=1)]
    category: str = ""
    shop: str = ""
    tags: list[str] = []
    attributes: dict[str, Any] = {}


class Cart(BaseModel):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | SkipJsonSchema[None] = optional()
    shipping: MoneyIn = "0"
    items: list[Item] = []
    total: MoneyIn | SkipJsonSchema[None] = optional("optional; must equal the sum of the lines")
    attributes: dict[str, Any] = {}


class Device(BaseModel):
    id: str = ""


class Referral(BaseModel):
    event: str = ""
    inviter: str = ""
    invitee: str = ""
    invitee_device: str = ""


class ClaimContext(BaseModel):
    """The rest of a claim's context: its user, device and IP are the claim's own."""

    cart: Cart | SkipJsonSchema[None] = optional()
    channel: str = ""
    region: str = ""
    referral: Referral | SkipJsonSchema[None] = optional()


class Context(ClaimContext):
    user: User | SkipJsonSchema[None] = optional()
    device: Device | SkipJsonSchema[None] = optional()
    ip: str = Field(default="", description="IPv4 or IPv6, normalised by the engine")


# --- storefront requests ----------------------------------------------------------------------


# Examples name the README tour's campaign (examples/everyday.promo); the docs show them
# and schemathesis sends them first.
_CART = {
    "shipping": "8.00",
    "items": [{"sku": "POT-1", "category": "kitchen", "price": "329.00", "qty": 1}],
}


def _example(value: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class EvaluateRequest(BaseModel):
    model_config = _example(
        {"context": {"user": {"id": "u1"}, "channel": "app", "cart": _CART}, "explain": True}
    )

    context: Context | SkipJsonSchema[None] = optional()
    coupons: list[str] = Field(default=[], description="codes the user holds, to consider")
    explain: bool = Field(default=False, description="a reason for every offer that does not apply")


class ClaimRequest(BaseModel):
    model_config = _example(
        {"campaign": "coupon_centre", "user": "u1", "device": "d1", "ip": "203.0.113.7"}
    )

    campaign: str
    reward: str | SkipJsonSchema[None] = optional("required when the campaign has several rewards")
    user: str | User = Field(description="the user id, or the user object with its `id`")
    device: str | SkipJsonSchema[None] = optional()
    ip: str | SkipJsonSchema[None] = optional()
    context: ClaimContext | SkipJsonSchema[None] = optional()


class RedeemRequest(BaseModel):
    model_config = _example(
        {"code": "CODE-FROM-THE-CLAIM", "user": "u1", "order": "o-1", "cart": _CART}
    )

    code: str
    user: str | User
    cart: Cart | SkipJsonSchema[None] = optional()
    order: str | SkipJsonSchema[None] = optional(
        "the order id: a retry with the same order is a replay"
    )


# --- storefront answers (LANGUAGE.md 10) --------------------------------------------------


class Allocation(Out):
    campaign: str
    reward: str | SkipJsonSchema[None] = optional()
    code: str | SkipJsonSchema[None] = optional()
    stage: Stage
    amount: Money


class Gift(Out):
    sku: str
    qty: int


class Discount(Out):
    campaign: str
    reward: str | SkipJsonSchema[None] = optional()
    code: str | SkipJsonSchema[None] = optional()
    amount: Money
    stage: Stage
    gift: Gift | SkipJsonSchema[None] = optional()
    points: int | SkipJsonSchema[None] = optional()


class Line(Out):
    line: int
    sku: str
    qty: int
    list_amount: Money = Field(alias="list", description="price × qty")
    allocations: list[Allocation]
    paid: Money


class Shipping(Out):
    fee: Money
    allocations: list[Allocation]
    paid: Money


class Claimable(Out):
    campaign: str
    reward: str | SkipJsonSchema[None] = optional()
    available: bool
    reason: str | SkipJsonSchema[None] = optional(
        "the first failing check; `unavailable` when the store is down"
    )


class Nudge(Out):
    campaign: str
    code: str | SkipJsonSchema[None] = optional()
    spend_more: Money
    save: Money


class Explanation(Out):
    campaign: str | None
    reward: str | SkipJsonSchema[None] = optional()
    code: str | SkipJsonSchema[None] = optional()
    reason: str


class EvaluateResponse(Out):
    discounts: list[Discount]
    total_discount: Money
    lines: list[Line]
    shipping: Shipping
    paid: Money
    claimable: list[Claimable]
    nudges: list[Nudge]
    explanations: list[Explanation]


class IssuedCoupon(Out):
    reward: str
    code: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime


class ClaimResponse(Out):
    status: Literal["issued", "rejected"]
    replayed: bool = Field(description="true when an Idempotency-Key replay returned it")
    campaign: str | SkipJsonSchema[None] = optional()
    reward: str | SkipJsonSchema[None] = optional()
    claim_id: str | SkipJsonSchema[None] = optional()
    coupons: list[IssuedCoupon] | SkipJsonSchema[None] = optional()
    prize: str | SkipJsonSchema[None] = optional()
    points: int | SkipJsonSchema[None] = optional()
    reason: str | SkipJsonSchema[None] = optional("why it was rejected")


class RedeemResponse(Out):
    status: Literal["redeemed", "rejected"]
    replayed: bool
    code: str | SkipJsonSchema[None] = optional()
    amount: Money | SkipJsonSchema[None] = optional()
    reason: str | SkipJsonSchema[None] = optional()


class RevertResponse(Out):
    status: Literal["reverted", "rejected"]
    code: str | SkipJsonSchema[None] = optional()
    reason: str | SkipJsonSchema[None] = optional()


# --- errors -------------------------------------------------------------------------------


class Diagnostic(Out):
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning"]
    message: str


class Problem(Out):
    """application/problem+json (RFC 9457) with the error's `code`."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | SkipJsonSchema[None] = optional("the wrong field")
    diagnostics: list[Diagnostic] | SkipJsonSchema[None] = optional()


# --- operators ----------------------------------------------------------------------------


class Window(Out):
    start: AwareDatetime
    end: AwareDatetime


class RewardView(Out):
    id: str
    title: str | None
    kind: str
    face_value: Money | None


class CampaignView(Out):
    id: str
    title: str | None
    ruleset: str
    version: int | None
    kind: Literal["automatic", "coupons", "lottery"]
    stage: Literal["item", "shop", "platform"]
    group: str | None
    priority: int
    tier: str | None
    goal: str | None
    window: Window
    state: Literal["scheduled", "live", "paused", "ended"]
    rewards: list[RewardView]
    counters: dict[str, Any] = Field(
        description="issued, redeemed, stock left per period, budget spent, rejections by reason"
    )


class CampaignList(Out):
    campaigns: list[CampaignView]


class PauseResult(Out):
    campaign: str
    paused: bool
    state: Literal["scheduled", "live", "paused", "ended"]


ListValue = Annotated[str, Field(min_length=1, max_length=200)]


class ListValues(BaseModel):
    model_config = _example({"values": ["u-4711", "u-4712"]})

    values: Annotated[list[ListValue], Field(max_length=100_000)]


class ListView(Out):
    name: str
    count: int
    values: list[str]


class ListChange(Out):
    name: str
    count: int


class RulesetUpload(BaseModel):
    source: str
    file: Annotated[str, Field(min_length=1, max_length=200)] = "upload.promo"


class UploadResult(Out):
    ruleset: str
    version: int
    created: bool = Field(description="false when this text was already a version")
    active: bool
    campaigns: list[str]
    warnings: list[Diagnostic]


class ActivateResult(Out):
    ruleset: str
    version: int
    previous: int | None


class VersionView(Out):
    version: int
    created_at: AwareDatetime
    active: bool
    diff: str = Field(description="unified diff from the previous version (from empty for v1)")


class VersionHistory(Out):
    ruleset: str
    active: int | None
    versions: list[VersionView]


class RulesetView(Out):
    id: str
    version: int | None
    currency: str
    timezone: str
    campaigns: list[str]


class RulesetList(Out):
    rulesets: list[RulesetView]


class Health(Out):
    status: Literal["ok"]
    worker: int


class Ready(Out):
    status: Literal["ready"]
    rulesets: int
