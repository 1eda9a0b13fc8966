"""What a service process needs to start, from `promo serve`'s options or, in the workers
of `promo serve --workers N`, from PROMO_* environment variables (uvicorn starts each
worker from the app factory `api.app:create_app_from_env`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from engine.clock import Clock, RehearsalClock, SystemClock
from engine.store import CounterStore

STORE_TIMEOUT = 0.25  # seconds; past it a store call fails and the request answers 503


@dataclass(frozen=True)
class Settings:
    rules_dir: Path | None = Path("examples")
    store_url: str = "memory"
    prefix: str = "promo:"
    api_keys: str = ""
    # Rehearsal: the engine clock starts at `rehearse` (unix seconds) at wall time
    # `rehearse_origin`, so that every worker of one `promo serve` shows the same time.
    rehearse: int | None = None
    rehearse_origin: float | None = None
    # Write RULES_DIR's files to the store as versions at startup; `promo serve` does it
    # once before starting several workers, which then only read the store.
    seed: bool = True
    version_poll: float = 0.25
    refresh_interval: float = 1.0
    store_timeout: float = STORE_TIMEOUT
    # For tests and embedding: an opened store and a clock to use instead.
    store: CounterStore | None = None
    clock: Clock | None = None
    lottery_seed: int | None = None
    # A serving process (`promo serve`): after startup, keep what startup made (the app,
    # the compiled rules, the libraries) out of the garbage collector's full passes. Off
    # for tests and embedding, which build many apps in one process.
    freeze_heap: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        rules = env.get("PROMO_RULES", "examples")
        rehearse = env.get("PROMO_REHEARSE")
        origin = env.get("PROMO_REHEARSE_ORIGIN")
        return cls(
            rules_dir=Path(rules) if rules else None,
            store_url=env.get("PROMO_STORE", "memory"),
            prefix=env.get("PROMO_PREFIX", "promo:"),
            api_keys=env.get("PROMO_API_KEYS", ""),
            rehearse=parse_instant(rehearse) if rehearse else None,
            rehearse_origin=float(origin) if origin else None,
            seed=env.get("PROMO_SEED", "1") == "1",
            freeze_heap=env.get("PROMO_FREEZE_HEAP", "0") == "1",
        )

    def to_env(self) -> dict[str, str]:
        """The variables `from_env` reads back (the API keys stay in PROMO_API_KEYS)."""
        env = {
            "PROMO_RULES": str(self.rules_dir or ""),
            "PROMO_STORE": self.store_url,
            "PROMO_PREFIX": self.prefix,
            "PROMO_SEED": "1" if self.seed else "0",
            "PROMO_FREEZE_HEAP": "1" if self.freeze_heap else "0",
        }
        if self.rehearse is not None:
            env["PROMO_REHEARSE"] = str(self.rehearse)
            env["PROMO_REHEARSE_ORIGIN"] = repr(self.rehearse_origin or 0.0)
        return env

    def make_clock(self) -> Clock:
        if self.clock is not None:
            return self.clock
        if self.rehearse is None:
            return SystemClock()
        return RehearsalClock(self.rehearse, self.rehearse_origin)


def shown_url(url: str) -> str:
    """A store URL fit for logs and messages: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def parse_instant(text: str) -> int:
    """Unix seconds from `2026-11-11T09:59:50+08:00` (an offset is required) or from an
    integer of unix seconds. Raises ValueError with a message for the operator."""
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not an instant; write it like 2026-11-11T09:59:50+08:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset; write it like 2026-11-11T09:59:50+08:00")
    return int(moment.timestamp())
