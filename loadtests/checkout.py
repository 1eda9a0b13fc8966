"""Checkout: claim a coupon on the cart page, see it in evaluate, redeem it, and cancel
a share of the orders (revert).

The cart is topped up to the coupon's minimum spend (shoppers do), the redeem carries
the order id and is retried with it on a timeout (the retry answers `replayed`), and one
order in five is cancelled, which makes the coupon usable again.
"""

from __future__ import annotations

from typing import Any

from locust import task

from loadtests.catalog import cart, shopper
from loadtests.client import PromoUser, evaluate_ok
from loadtests.config import CHECKOUT, CHECKOUT_ACME, CHECKOUT_PLAIN

_CANCEL_SHARE = 0.2
_ACME_SHOES: dict[str, Any] = {
    "sku": "ACME-RUN-42", "category": "shoes", "shop": "acme", "price": "299.00", "qty": 1,
    "attributes": {"brand": "Acme"},
}  # fmt: skip


class Checkout(PromoUser):
    weight = 15
    think = (1.0, 4.0)

    def on_start(self) -> None:
        super().on_start()
        self.shopper = shopper(self.rng, "co")

    @task
    def checkout(self) -> None:
        s = self.shopper
        reward = CHECKOUT_ACME if self.rng.random() < 0.3 else CHECKOUT_PLAIN
        body = {"campaign": CHECKOUT, "reward": reward, "user": s.user(), "device": s.device,
                "ip": s.ip}  # fmt: skip
        claimed = self.claim(f"claim {CHECKOUT}", body, key=self.new_key(CHECKOUT))
        if claimed is None or claimed.get("status") != "issued":
            if claimed is not None and claimed.get("reason") in ("user_limit", "device_limit"):
                self.shopper = shopper(self.rng, "co")
            return
        code = claimed["coupons"][0]["code"]
        basket = cart(self.rng, lines=self.rng.randint(1, 8), min_total=20_000)
        if reward == CHECKOUT_ACME:
            basket["items"].append(dict(_ACME_SHOES))  # the Acme coupon's own minimum spend
        evaluated = {"context": s.context(basket), "coupons": [code]}
        self.call("evaluate coupon", "/v1/evaluate", evaluated, check=evaluate_ok)
        if self.redeem(code, basket) and self.rng.random() < _CANCEL_SHARE:
            self.call("revert", f"/v1/coupons/{code}/revert", None, check=_reverted)

    def redeem(self, code: str, basket: dict[str, Any]) -> bool:
        order = f"o-{self.rng.getrandbits(64):016x}"
        body = {"code": code, "user": self.shopper.id, "cart": basket, "order": order}
        for _ in range(3):
            status, result = self.call("redeem", "/v1/redemptions", body, check=_redeemed)
            if result is not None:
                return bool(result.get("status") == "redeemed")
            if status not in (0, 503):
                return False
        return False


def _redeemed(result: dict[str, Any]) -> str | None:
    if result.get("status") == "redeemed":
        return None
    # The cart was topped up past the minimum spend and the coupon is fresh.
    return f"redeem of a fresh coupon refused: {result.get('reason')}"


def _reverted(result: dict[str, Any]) -> str | None:
    if result.get("status") == "reverted":
        return None
    return f"revert of a redeemed coupon refused: {result.get('reason')}"
