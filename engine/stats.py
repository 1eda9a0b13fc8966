"""Refusals by reason, and redemptions and reverts: statistics, not quotas (issue #4).

A refused claim writes nothing to the store on its own path; each process adds refusals up
in memory and flushes them about once a second, so counters and reports can show them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from engine.store import CounterStore, Scope, StoreUnavailable


class OutcomeStats:
    def __init__(self, store: CounterStore, interval: float = 1.0) -> None:
        self._store = store
        self._interval = interval
        self._pending: dict[Scope, Counter[str]] = {}
        self._task: asyncio.Task[None] | None = None
        # Python 3.11's asyncio.wait_for (inside redis-py) can swallow a cancellation:
        # the loop also checks this flag, so that stop() always ends it.
        self._stopping = False

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
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.25)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(StoreUnavailable):
            await self.flush()

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self._interval)
            await self.flush()
