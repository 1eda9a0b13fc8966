"""The locust entry point: the user classes and the load shape of the chosen scenario.

`loadtests.run` starts locust on this file with LOADTEST_* variables (config.RunEnv);
locust picks up every User class and the one shape found in this module's namespace, so
only the scenario's are put here.

    sale_day  every class, the SaleDayShape (ramp, spike at T0)      (default)
    mixed     every class, a steady load (throughput measurements)
    browse, flash, draw, checkout, abuse: one class, a steady load
"""

from __future__ import annotations

from locust import User

from loadtests.abuser import Abuser
from loadtests.browser import Browser
from loadtests.checkout import Checkout
from loadtests.client import RUN
from loadtests.draw import LuckyDrawer
from loadtests.flash import FlashDropper
from loadtests.shape import SaleDayShape, SteadyShape  # noqa: F401 - found by locust

EVERYONE: tuple[type[User], ...] = (Browser, FlashDropper, LuckyDrawer, Checkout, Abuser)
CLASSES: dict[str, tuple[type[User], ...]] = {
    "sale_day": EVERYONE,
    "mixed": EVERYONE,
    "browse": (Browser,),
    "flash": (FlashDropper,),
    "draw": (LuckyDrawer,),
    "checkout": (Checkout,),
    "abuse": (Abuser,),
}


def _expose(scenario: str) -> None:
    # Locust scans module globals: drop what the scenario does not run.
    chosen = CLASSES[scenario]
    for cls in EVERYONE:
        if cls not in chosen:
            del globals()[cls.__name__]
    del globals()["SteadyShape" if scenario == "sale_day" else "SaleDayShape"]


_expose(RUN.scenario if RUN.scenario in CLASSES else "sale_day")
