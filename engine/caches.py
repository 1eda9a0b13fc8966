"""Runtime lists and pause states, cached in each process (LANGUAGE.md 10.6, 10.8).

Rules read lists on every request, so a list check must cost no round trip: each process
keeps a copy, sees its own changes at once, and reloads the store's copy when it is older
than `interval` seconds, so other processes' changes arrive within that time.
"""

from __future__ import annotations

import contextlib
import time

from dsl.context import Lists
from engine.repeating import Repeating
from engine.store import CounterStore, StoreUnavailable


class StoreCache:
    def __init__(self, store: CounterStore, interval: float = 1.0) -> None:
        self._store = store
        self._interval = interval
        self.lists: dict[str, frozenset[str]] = {}
        self.paused: frozenset[tuple[str, str]] = frozenset()
        self._loaded_at = -1e18
        # Refreshes twice per interval, off the request path, once started.
        self._background = Repeating(self.refresh, interval / 2, "list and pause refresh")

    @property
    def view(self) -> Lists:
        return self.lists

    async def refresh(self) -> None:
        _, lists = await self._store.lists()
        _, paused = await self._store.paused()
        self.lists, self.paused = lists, paused
        self._loaded_at = time.monotonic()

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
