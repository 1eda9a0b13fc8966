"""Runtime lists and pause states, cached in each process (LANGUAGE.md 10.6, 10.8).

Rules read lists on every request, so a list check must cost no round trip: each process
keeps a copy, sees its own changes at once, and reloads the store's copy when it is older
than `interval` seconds, so other processes' changes arrive within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from dsl.context import Lists
from engine.store import CounterStore, StoreUnavailable


class StoreCache:
    def __init__(self, store: CounterStore, interval: float = 1.0) -> None:
        self._store = store
        self._interval = interval
        self.lists: dict[str, frozenset[str]] = {}
        self.paused: frozenset[tuple[str, str]] = frozenset()
        self._loaded_at = -1e18
        self._task: asyncio.Task[None] | None = None
        # Python 3.11's asyncio.wait_for (inside redis-py) can swallow a cancellation:
        # the loop also checks this flag, so that stop() always ends it.
        self._stopping = False

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
        if self._task is not None or time.monotonic() - self._loaded_at < self._interval:
            return
        with contextlib.suppress(StoreUnavailable):
            await self.refresh()

    def start(self) -> None:
        """Refresh in the background twice per interval, off the request path."""
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

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(StoreUnavailable):
                await self.refresh()
            await asyncio.sleep(self._interval / 2)

    # --- this process's own changes are seen at once ----------------------------------------

    def added(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: self.lists.get(name, frozenset()) | values}

    def removed(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: self.lists.get(name, frozenset()) - values}

    def replaced(self, name: str, values: frozenset[str]) -> None:
        self.lists = {**self.lists, name: values}

    def set_paused(self, key: tuple[str, str], paused: bool) -> None:
        self.paused = self.paused | {key} if paused else self.paused - {key}
