"""LuckyDrawer: spins of the sale-day lucky wheel, each a claim with its own key.

A shopper spins until the per-user limit (10 a day) says no, then another shopper
takes the phone. Some spins are retried after a timeout with the same key, and must not
spin twice.
"""

from __future__ import annotations

from locust import task

from loadtests.catalog import shopper
from loadtests.client import PromoUser
from loadtests.config import WHEEL


class LuckyDrawer(PromoUser):
    weight = 8
    think = (0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        self.shopper = shopper(self.rng, "ld")

    @task
    def spin(self) -> None:
        s = self.shopper
        body = {"campaign": WHEEL, "user": s.user(), "device": s.device, "ip": s.ip}
        result = self.claim(f"claim {WHEEL}", body, key=self.new_key(WHEEL))
        reason = result.get("reason") if result is not None else None
        if reason in ("user_limit", "device_limit", "not_eligible", "denied"):
            self.shopper = shopper(self.rng, "ld")
