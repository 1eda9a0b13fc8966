"""One process of the concurrency tests: an engine on a shared Redis, many asyncio tasks.

Run by test_concurrency.py in spawned processes, so the claims of several processes race
in Redis exactly as several service workers' would.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dsl.compiler import compile_text
from engine.clock import FixedClock
from engine.engine import Engine
from engine.store.open import open_store


def run(
    url: str, prefix: str, rules: str, now: int, op: str, requests: list[dict[str, Any]], tasks: int
) -> list[dict[str, Any]]:
    """Run `requests` (claims or redeems) with `tasks` concurrent tasks; results in order."""
    return asyncio.run(_run(url, prefix, rules, now, op, requests, tasks))


async def _run(
    url: str, prefix: str, rules: str, now: int, op: str, requests: list[dict[str, Any]], tasks: int
) -> list[dict[str, Any]]:
    store = open_store(url, prefix=prefix, timeout=30.0)
    engine = Engine(store, FixedClock(now))
    await engine.load(compile_text(rules)[0])
    gate = asyncio.Semaphore(tasks)
    call = engine.claim if op == "claim" else engine.redeem

    async def one(request: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            return await call(request)

    try:
        return list(await asyncio.gather(*(one(r) for r in requests)))
    finally:
        await store.close()
