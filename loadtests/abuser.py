"""Abuser: a coupon farm (羊毛党) and a code guesser.

The farm registers many accounts and claims from a handful of devices and addresses,
half the time without an Idempotency-Key (scripts do not bother): the device and IP
limits must stop it, and the flagged accounts are `denied`. The guesser redeems and
reverts codes it made up, well-formed ones (with the campaign's routing tag and a valid
check symbol, so every one costs a store round trip) and malformed ones: none may ever
be accepted.
"""

from __future__ import annotations

import time
from typing import Any

from locust import task

from engine.codes import new_code, route_tag
from loadtests import client
from loadtests.catalog import Shopper, cart, ipv4
from loadtests.client import PromoUser
from loadtests.config import CHECKOUT, CHECKOUT_PLAIN, FLASH, FLASH_TOP

_GUESS_TAG = route_tag(CHECKOUT)


class Abuser(PromoUser):
    weight = 7
    think = (0.2, 1.0)

    def on_start(self) -> None:
        super().on_start()
        rng = self.rng
        self.devices = [f"farm-dev-{rng.getrandbits(32):08x}" for _ in range(3)]
        self.ips = [ipv4(rng) for _ in range(2)]

    def account(self) -> Shopper:
        rng = self.rng
        flagged = rng.random() < 0.3
        return Shopper(
            id=f"farm-{rng.getrandbits(48):012x}", device=rng.choice(self.devices),
            ip=rng.choice(self.ips), tags=["coupon_farmer"] if flagged else [],
            is_new=True, registered_at="2026-11-10T23:00:00+08:00",
        )  # fmt: skip

    @task(3)
    def farm(self) -> None:
        s = self.account()
        dropped = time.time() >= client.T0_WALL
        campaign, reward = (FLASH, FLASH_TOP) if dropped else (CHECKOUT, CHECKOUT_PLAIN)
        body = {"campaign": campaign, "reward": reward, "user": s.user(), "device": s.device,
                "ip": s.ip}  # fmt: skip
        key = self.new_key(campaign) if self.rng.random() < 0.5 else None
        self.claim(f"claim {campaign} farm", body, key=key, attempts=1)

    @task(2)
    def guess(self) -> None:
        rng = self.rng
        code = new_code(_GUESS_TAG) if rng.random() < 0.8 else f"{rng.getrandbits(90):X}"[:20]
        if rng.random() < 0.7:
            body: dict[str, Any] = {"code": code, "user": f"farm-{rng.getrandbits(32):08x}",
                                    "cart": cart(rng, lines=2)}  # fmt: skip
            self.call("redeem guess", "/v1/redemptions", body, check=_unknown)
        else:
            self.call("revert guess", f"/v1/coupons/{code}/revert", None, check=_unknown)


def _unknown(result: dict[str, Any]) -> str | None:
    if result.get("status") == "rejected" and result.get("reason") == "unknown_code":
        return None
    return f"a guessed code was accepted: {result}"
