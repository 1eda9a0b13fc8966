"""FlashDropper: the crowd at T0 of the 20:00 flash drop.

Before T0 a dropper refreshes the product page (a small evaluate) every few seconds. In
the last two seconds it waits for T0; then five shoppers (concurrent greenlets) tap
"grab" within the same second as every other dropper's. Each tap is a claim of the
100-off coupon with an Idempotency-Key, retried with that key on a timeout or a 503, and
on `out_of_stock` a second claim for the 30-off fallback. A tap too early
(`not_started`: the clocks of a phone and the server differ) is tapped again. Each task
after T0 is one new shopper arriving at the drop; a few double-tap (the same key twice:
the second answer must be the first one, `replayed`).
"""

from __future__ import annotations

import time
from typing import Any

import gevent
from locust import task

from loadtests import client
from loadtests.catalog import Shopper, cart, shopper
from loadtests.client import RECORDER, PromoUser, evaluate_ok
from loadtests.config import FLASH, FLASH_FALLBACK, FLASH_TOP

_SHARED_IPS = 20_000  # shoppers behind the same carrier NAT share an address
_CROWD = 5  # shoppers each dropper brings to T0


class FlashDropper(PromoUser):
    weight = 20
    think = (1.0, 3.0)

    def on_start(self) -> None:
        super().on_start()
        self.shopper = shopper(self.rng, "fd", ip_pool=_SHARED_IPS)  # before T0: browsing
        self.rushed = False

    @task
    def drop(self) -> None:
        wait = client.T0_WALL - time.time()
        if wait > 2.0:
            basket = cart(self.rng, lines=self.rng.randint(1, 3))
            self.call("evaluate", "/v1/evaluate", {"context": self.shopper.context(basket)},
                      check=evaluate_ok)  # fmt: skip
            return
        if not self.rushed:
            self.rushed = True
            gevent.sleep(max(wait, 0.0))
            gevent.joinall([gevent.spawn(self.arrive) for _ in range(_CROWD)])
            # The rush is the spike; afterwards shoppers come back at their own moments.
            # Paced droppers would otherwise all come back in the same 0.3 s of every
            # second after T0, for the rest of the run: a burst that kept 20 to 40 ms of
            # queue in the service once a second at 450 users (2026-11-29).
            self.scatter()
        else:
            self.arrive()

    def arrive(self) -> None:
        """A new shopper at the drop: the 100-off coupon, or else the 30-off fallback."""
        gevent.sleep(self.rng.uniform(0.0, 0.3))  # taps spread over the same second
        s = shopper(self.rng, "fd", ip_pool=_SHARED_IPS)
        result = self.grab(s, FLASH_TOP)
        if result is not None and result.get("reason") == "out_of_stock":
            self.grab(s, FLASH_FALLBACK)

    def grab(self, s: Shopper, reward: str) -> dict[str, Any] | None:
        body = {"campaign": FLASH, "reward": reward, "user": s.user(), "device": s.device,
                "ip": s.ip}  # fmt: skip
        key = self.new_key(FLASH)
        for _ in range(10):
            result = self.claim(f"claim {FLASH}", body, key=key)
            if result is None or result.get("reason") != "not_started":
                break
            gevent.sleep(0.3 + self.rng.uniform(0.0, 0.2))
        if result is not None and result.get("status") == "issued" and self.rng.random() < 0.05:
            self.double_tap(body, key, result)
        return result

    def double_tap(self, body: dict[str, Any], key: str, first: dict[str, Any]) -> None:
        again = self.claim(f"claim {FLASH} again", body, key=key)
        if again is not None and again.get("claim_id") != first["claim_id"]:
            RECORDER.anomaly(
                f"a retry with key {key} answered claim {again.get('claim_id')}, "
                f"the first answer was claim {first['claim_id']}"
            )
