"""What only MemoryStore promises: a step is atomic for threads too, each thread with its
own event loop (one critical section under a lock, no await inside)."""

from __future__ import annotations

import asyncio
import threading

from engine.store.memory import MemoryStore
from tests.store.builders import NOW, SCOPE, claim, limit


def test_claims_from_many_threads_never_exceed_a_stock() -> None:
    store = MemoryStore()
    stock = limit("s:c30", 100, "out_of_stock")
    issued: list[int] = []

    def worker(t: int) -> None:
        async def claims() -> int:
            results = [
                await store.claim(claim(f"u{t}-{i}", checks=[stock]), NOW) for i in range(60)
            ]
            return sum(r.status == "issued" for r in results)

        issued.append(asyncio.run(claims()))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(issued) == 100
    assert asyncio.run(store.counters(SCOPE, ["s:c30"])) == [100]
