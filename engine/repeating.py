"""A step repeated in the background of the running event loop, and stopped for sure.

The engine's caches, its statistics and the service's version poll each keep a copy of
something fresh this way. A step that finds the store unavailable is tried again at the
next beat: the process keeps serving what it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from engine.store import StoreUnavailable

log = logging.getLogger("promo.engine")


class Repeating:
    """`step()`, then a pause of `interval` seconds, over and over once started."""

    def __init__(self, step: Callable[[], Awaitable[None]], interval: float, name: str) -> None:
        self._step = step
        self._interval = interval
        self._name = name
        self._task: asyncio.Task[None] | None = None
        # Python 3.11's asyncio.wait_for (inside redis-py) can swallow a cancellation:
        # the loop also checks this flag, so that stop() always ends it.
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.25)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except StoreUnavailable:
                pass  # the next beat tries again
            except Exception:
                log.exception("%s failed; trying again in %g s", self._name, self._interval)
            await asyncio.sleep(self._interval)
