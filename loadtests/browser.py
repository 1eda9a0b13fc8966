"""Browser: shoppers looking at their carts on sale day, the bulk of the traffic.

Every cart view is an evaluate: carts of 1 to 30 lines across categories and shops,
members and non-members, app and web; one view in five asks for `explain` (the "why not
this offer?" panel). A shopper views a few carts, then another shopper takes over.
"""

from __future__ import annotations

from typing import Any

from locust import task

from loadtests.catalog import CARTS, Shopper, shopper
from loadtests.client import PromoUser, evaluate_ok


class Browser(PromoUser):
    weight = 50
    think = (0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        self.shopper: Shopper = shopper(self.rng, "b")

    @task
    def view_cart(self) -> None:
        if self.rng.random() < 0.1:
            self.shopper = shopper(self.rng, "b")
        basket = CARTS.pick(self.rng)
        body: dict[str, Any] = {"context": self.shopper.context(basket)}
        explain = self.rng.random() < 0.2
        if explain:
            body["explain"] = True

        def lines_match(result: dict[str, Any]) -> str | None:
            if len(result.get("lines", ())) != len(basket["items"]):
                return "evaluate answered another number of lines than the cart has"
            return evaluate_ok(result)

        self.call("evaluate explain" if explain else "evaluate", "/v1/evaluate", body,
                  check=lines_match)  # fmt: skip
