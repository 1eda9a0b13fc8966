"""Refusals by reason, and redemptions and reverts: statistics, not quotas (issue #4).

A refused claim writes nothing to the store on its own path; each process adds refusals up
in memory and flushes them about once a second, so counters and reports can show them.
"""

from __future__ import annotations

import contextlib
from collections import Counter

from engine.repeating import Repeating
from engine.store import CounterStore, Scope, StoreUnavailable


class OutcomeStats:
    def __init__(self, store: CounterStore, interval: float = 1.0) -> None:
        self._store = store
        self._pending: dict[Scope, Counter[str]] = {}
        self._background = Repeating(self.flush, interval, "statistics flush")

    def note(self, scope: Scope, reason: str) -> None:
        self._pending.setdefault(scope, Counter())[reason] += 1

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for scope, counts in pending.items():
            try:
                await self._store.add_stats(scope, dict(counts))
            except StoreUnavailable:
                # Keep them for the next flush: statistics may arrive late, not get lost.
                self._pending.setdefault(scope, Counter()).update(counts)

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()
        with contextlib.suppress(StoreUnavailable):
            await self.flush()
