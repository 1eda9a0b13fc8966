"""Sale-day shoppers and carts: who sends the requests and what they buy.

Everything is drawn from a `random.Random` that each simulated user owns, so a locust
process makes no shared state and a run's mix is stable. Amounts are strings with two
decimals (the API refuses floats), IPs are normalised text (what the store logs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("app", "app", "app", "web", "mini_program", "h5")
REGIONS = ("CN-11", "CN-31", "CN-44", "CN-33", "CN-51", "CN-32")

# (category, shop, brand, price range in yuan): a marketplace's sale-day catalogue.
_PRODUCTS: tuple[tuple[str, str, str, int, int], ...] = (
    ("shoes", "acme", "Acme", 199, 899),
    ("shoes", "nova", "Nova", 129, 599),
    ("apparel", "acme", "Acme", 59, 399),
    ("apparel", "orbit", "Orbit", 39, 259),
    ("electronics", "nova", "Nova", 299, 4999),
    ("electronics", "self", "Generic", 49, 999),
    ("home", "luma", "Luma", 29, 699),
    ("home", "luma", "Other", 19, 299),
    ("kitchen", "luma", "Luma", 39, 899),
    ("beauty", "orbit", "Orbit", 49, 499),
    ("beauty", "self", "Generic", 19, 199),
    ("food", "self", "Generic", 9, 129),
    ("toys", "orbit", "Orbit", 29, 399),
    ("books", "self", "Generic", 19, 89),
    ("gift_card", "self", "Generic", 100, 500),
    ("top_up", "self", "Generic", 50, 200),
)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def cart_size(rng: random.Random) -> int:
    """1 to 30 lines, most carts small: half have 1-3 lines, a few are 20-30."""
    roll = rng.random()
    if roll < 0.5:
        return rng.randint(1, 3)
    if roll < 0.85:
        return rng.randint(4, 10)
    if roll < 0.95:
        return rng.randint(11, 19)
    return rng.randint(20, 30)


def line(rng: random.Random, index: int) -> dict[str, Any]:
    category, shop, brand, low, high = rng.choice(_PRODUCTS)
    cents = rng.randint(low, high) * 100 + rng.choice((0, 0, 90, 99, 50))
    item: dict[str, Any] = {
        "sku": f"{category[:3].upper()}-{rng.randint(1, 9999):04d}-{index}",
        "category": category,
        "shop": shop,
        "price": money(cents),
        "qty": rng.choice((1, 1, 1, 1, 2, 2, 3)),
        "attributes": {"brand": brand},
    }
    if rng.random() < 0.1:
        item["tags"] = ["new_arrival"]
    return item


def cart(rng: random.Random, lines: int | None = None, min_total: int = 0) -> dict[str, Any]:
    """A cart of `lines` lines (default: a drawn size); with `min_total` (cents), lines
    are added until the list total reaches it, as a shopper tops up to a threshold."""
    count = lines if lines is not None else cart_size(rng)
    items = [line(rng, i) for i in range(count)]
    while min_total and _total(items) < min_total and len(items) < 30:
        items.append(line(rng, len(items)))
    shipping = rng.choice(("0.00", "6.00", "8.00", "10.00", "12.00"))
    return {"currency": "CNY", "shipping": shipping, "items": items}


class CartPool:
    """Carts made once per process and reused: drawing 30 random lines for every request
    would cost the load generator more CPU than the service spends on them, and the two
    share the machine."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._carts: list[dict[str, Any]] = []

    def pick(self, rng: random.Random) -> dict[str, Any]:
        if len(self._carts) < self.size:
            self._carts.append(cart(rng))
            return self._carts[-1]
        return rng.choice(self._carts)


CARTS = CartPool()


def _total(items: list[dict[str, Any]]) -> int:
    total = 0
    for item in items:
        yuan, cents = item["price"].split(".")
        total += (int(yuan) * 100 + int(cents)) * item["qty"]
    return total


def ipv4(rng: random.Random, pool: int = 1 << 22) -> str:
    """An address in 100.64.0.0/10 (carrier-grade NAT, as most mobile shoppers have);
    a smaller `pool` makes shoppers share addresses."""
    n = rng.randrange(pool)
    return f"100.{64 + (n >> 16) % 64}.{(n >> 8) & 255}.{n & 255}"


def ipv6(rng: random.Random) -> str:
    """A documentation-range IPv6 address in its normalised (RFC 5952) form."""
    a, b, c = (rng.randrange(1, 1 << 16) for _ in range(3))
    return f"2001:db8:{a:x}:{b:x}::{c:x}"


@dataclass
class Shopper:
    """One account on one device from one address, as the storefront's server sees it."""

    id: str
    device: str
    ip: str
    channel: str = "app"
    region: str = "CN-31"
    level: int = 0
    tags: list[str] = field(default_factory=list)
    is_new: bool = False
    phone_verified: bool = True
    risk_score: int = 5
    registered_at: str = "2024-03-02T09:15:00+08:00"

    def user(self) -> dict[str, Any]:
        """The `user` object of a request (LANGUAGE.md 4)."""
        return {
            "id": self.id, "level": self.level, "tags": self.tags, "is_new": self.is_new,
            "phone_verified": self.phone_verified, "risk_score": self.risk_score,
            "registered_at": self.registered_at,
        }  # fmt: skip

    def context(self, basket: dict[str, Any] | None = None) -> dict[str, Any]:
        """An evaluate context for this shopper, with `basket` as the cart."""
        ctx: dict[str, Any] = {
            "user": self.user(), "channel": self.channel, "region": self.region,
            "device": {"id": self.device}, "ip": self.ip,
        }  # fmt: skip
        if basket is not None:
            ctx["cart"] = basket
        return ctx


def shopper(rng: random.Random, prefix: str, *, ip_pool: int = 1 << 22) -> Shopper:
    """An ordinary shopper: mostly members on the app, some new, a few risky."""
    level = rng.choice((0, 0, 1, 1, 2, 3, 4, 5))
    tags = ["vip"] if level >= 4 else []
    if rng.random() < 0.02:
        tags.append("fraud")
    year = rng.choice((2019, 2021, 2023, 2025, 2026))
    return Shopper(
        id=f"{prefix}-{rng.getrandbits(48):012x}",
        device=f"dev-{rng.getrandbits(48):012x}",
        ip=ipv6(rng) if rng.random() < 0.1 else ipv4(rng, ip_pool),
        channel=rng.choice(CHANNELS),
        region=rng.choice(REGIONS),
        level=level,
        tags=tags,
        is_new=year == 2026 and rng.random() < 0.5,
        phone_verified=rng.random() < 0.95,
        risk_score=rng.choice((1, 5, 10, 20, 35, 50, 85)) if rng.random() < 0.3 else 3,
        registered_at=f"{year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00+08:00",
    )
