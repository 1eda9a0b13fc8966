"""Runtime lists and pause states, cached in each process (LANGUAGE.md 10.6, 10.8).

Rules read lists on every request, so a list check must cost no round trip: each process
keeps a copy, sees its own changes at once, and looks at the store's change counters when
its copy is older than `interval` seconds, so other processes' changes arrive within that
time. Only what moved is reloaded: a deny list of a million devices costs one small read
per beat, not a million members twice a second in every worker.
"""

from __future__ import annotations

import contextlib
import time
from typing import Final

from dsl.context import Lists
from engine.repeating import Repeating
from engine.store import CounterStore, StoreUnavailable

FULL_RELOAD_SECONDS: Final = 60.0
"""A safety net: even when the counters look unchanged, reload everything this often. A
Redis restarted without persistence starts its counters again from zero, and could come
back to the count a process saw last between two of its beats."""


class StoreCache:
    def __init__(
        self, store: CounterStore, interval: float = 1.0, full_reload: float = FULL_RELOAD_SECONDS
    ) -> None:
        self._store = store
        self._interval = interval
        self._full_reload = full_reload
        self.lists: dict[str, frozenset[str]] = {}
        self.paused: frozenset[tuple[str, str]] = frozenset()
        self._loaded_at = -1e18
        self._fully_loaded_at = -1e18
        self._seen: tuple[int, int] | None = None  # (list changes, pause changes) in the copy
        # Refreshes twice per interval, off the request path, once started.
        self._background = Repeating(self.refresh, interval / 2, "list and pause refresh")

    @property
    def view(self) -> Lists:
        return self.lists

    async def refresh(self) -> None:
        now = time.monotonic()
        if self._seen is None or now - self._fully_loaded_at >= self._full_reload:
            lists_count, self.lists = await self._store.lists()
            paused_count, self.paused = await self._store.paused()
            self._fully_loaded_at = now
        else:
            lists_count, paused_count = self._seen
            lists_now, paused_now = await self._store.changes()
            # Each counter is read before what it counts: a change made in between moves
            # it again, and the next beat reloads. Nothing is missed.
            if lists_now != lists_count:
                lists_count, self.lists = await self._store.lists()
            if paused_now != paused_count:
                paused_count, self.paused = await self._store.paused()
        self._seen = (lists_count, paused_count)
        self._loaded_at = now

    async def fresh(self) -> None:
        """Reload when stale, unless a background task keeps the copy fresh. A store that is
        down leaves the last copy in use: rules keep answering."""
        if self._background.running or time.monotonic() - self._loaded_at < self._interval:
            return
        with contextlib.suppress(StoreUnavailable):
            await self.refresh()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    # --- this process's own changes are seen at once ----------------------------------------

    def added(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: self.lists.get(name, frozenset()) | values}

    def removed(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: self.lists.get(name, frozenset()) - values}

    def replaced(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: values}

    def set_paused(self, key: tuple[str, str], paused: bool) -> None:
        self.paused = self.paused | {key} if paused else self.paused - {key}
