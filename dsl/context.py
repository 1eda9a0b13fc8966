"""The request context as compiled rules read it (LANGUAGE.md 4).

`engine/context.py` validates a JSON context into these slotted objects once per request;
the code that `compiler.py` generates reads their attributes directly. Money is integer
minor units of the cart's currency, instants are unix seconds, durations are seconds.
Declared attributes (LANGUAGE.md 3.2) stay raw here: each compiled ruleset types and
defaults them with `CompiledRuleset.bind`, since two rulesets may declare different ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSONDict = dict[str, Any]
Lists = Mapping[str, frozenset[str]]
"""Runtime lists (LANGUAGE.md 10.6) as the process sees them now: name -> members."""

EMPTY_LIST: frozenset[str] = frozenset()


class ContextError(ValueError):
    """A context that breaks LANGUAGE.md 4 or 3.2: `invalid_request`, naming the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Item:
    """One cart line. `price` and `amount` (= price x qty) are minor units."""

    __slots__ = ("amount", "attributes", "category", "index", "price", "qty", "shop", "sku", "tags")

    def __init__(
        self,
        index: int,
        sku: str,
        category: str,
        shop: str,
        price: int,
        qty: int,
        tags: tuple[str, ...],
        attributes: JSONDict,
    ) -> None:
        self.index = index
        self.sku = sku
        self.category = category
        self.shop = shop
        self.price = price
        self.qty = qty
        self.amount = price * qty
        self.tags = tags
        self.attributes = attributes


class Context:
    """A validated request context. Field names follow LANGUAGE.md 4 with the root folded
    in (`user.level` is `level`, `device.id` is `device_id`, `referral.event` is
    `referral_event`). `ip` is the normalised text and `ip_scope` what IP limits count
    (the address for IPv4, the /64 prefix for IPv6)."""

    __slots__ = (
        "account_age",
        "cart_attributes",
        "channel",
        "currency",
        "device_id",
        "ip",
        "ip_scope",
        "is_new",
        "items",
        "level",
        "now",
        "phone_verified",
        "referral_event",
        "referral_invitee",
        "referral_invitee_device",
        "referral_inviter",
        "region",
        "registered_at",
        "risk_score",
        "shipping",
        "total",
        "user_attributes",
        "user_id",
        "user_tags",
    )

    user_id: str
    level: int
    user_tags: tuple[str, ...]
    is_new: bool
    phone_verified: bool
    risk_score: int
    registered_at: int
    account_age: int
    user_attributes: JSONDict
    items: tuple[Item, ...]
    total: int
    shipping: int
    currency: str
    cart_attributes: JSONDict
    channel: str
    region: str
    device_id: str
    ip: str
    ip_scope: str
    now: int
    referral_event: str
    referral_inviter: str
    referral_invitee: str
    referral_invitee_device: str

    def __init__(self, now: int, currency: str) -> None:
        self.user_id = ""
        self.level = 0
        self.user_tags = ()
        self.is_new = False
        self.phone_verified = False
        self.risk_score = 0
        self.registered_at = now
        self.account_age = 0
        self.user_attributes = {}
        self.items = ()
        self.total = 0
        self.shipping = 0
        self.currency = currency
        self.cart_attributes = {}
        self.channel = ""
        self.region = ""
        self.device_id = ""
        self.ip = ""
        self.ip_scope = ""
        self.now = now
        self.referral_event = ""
        self.referral_inviter = ""
        self.referral_invitee = ""
        self.referral_invitee_device = ""


class Bound:
    """A ruleset's declared attributes for one request, typed and defaulted, in
    declaration order: `user[i]`, `cart[i]`, and `items[line][i]`."""

    __slots__ = ("cart", "items", "user")

    def __init__(
        self, user: tuple[Any, ...], cart: tuple[Any, ...], items: tuple[tuple[Any, ...], ...]
    ) -> None:
        self.user = user
        self.cart = cart
        self.items = items


NO_ATTRIBUTES = Bound((), (), ())
