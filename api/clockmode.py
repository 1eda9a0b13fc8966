"""Which clock a store's data was written with: `system` or `rehearsal`.

A rehearsal (`promo serve --rehearse 2026-11-11T09:59:50+08:00`) runs the engine clock
from a future instant: its counters, coupons and idempotency keys belong to that day.
Mixed with real data they would corrupt both, so the store records the mode of the first
service that wrote to it, and a service with the other mode refuses to start.
"""

from __future__ import annotations

from engine.store import CounterStore

SYSTEM, REHEARSAL = "system", "rehearsal"


class ClockModeError(Exception):
    """The store holds data written under the other clock; the message says what to do."""


async def claim_clock_mode(store: CounterStore, rehearsing: bool, where: str) -> None:
    """Record this service's clock mode in the store, or raise ClockModeError when the
    store's data was written with the other one. `where` names the store in the message."""
    wanted = REHEARSAL if rehearsing else SYSTEM
    recorded = await store.clock_mode()
    if recorded is None:
        # Versions written before the mode was recorded came from a real clock.
        recorded = SYSTEM if await store.versions() else wanted
        await store.set_clock_mode(recorded)
    if recorded == wanted:
        return
    if rehearsing:
        raise ClockModeError(
            f"--rehearse refused: {where} holds data written with the real clock, which a "
            "rehearsal would mix with counters and coupons of another day; rehearse on an "
            "empty store, such as another Redis database (redis://HOST:PORT/1)"
        )
    raise ClockModeError(
        f"{where} holds data of a rehearsal (--rehearse); serving it with the real clock "
        "would mix rehearsal counters and coupons with real ones; serve another Redis "
        "database, or flush this one once the rehearsal is over"
    )
