"""Claims under real concurrency (issue #3): several processes, each with many asyncio
tasks, through the engine, on one real Redis. Quotas are never exceeded, one key issues
once, one code redeems once, and lottery draws keep their odds, stock and pity."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from dsl.compiler import compile_text
from dsl.localtime import parse_instant
from engine.registry import Registry
from engine.store import Scope
from engine.store.open import open_store
from tests.engine import concurrency_worker
from tests.redis_server import RedisProcess

pytestmark = pytest.mark.redis

NOW = parse_instant("2026-11-11T10:00:00+08:00")
PROCESSES = 4

FLASH = """
ruleset "race"
timezone "Asia/Shanghai"
currency CNY
campaign flash {
    window 2026-11-11 .. 2026-11-11
    coupon c10 { value 10 off  stock 1000  valid 7d after claim }
    budget 10000
    limit per user 3
}
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as executor:
        yield executor


def _race(
    pool: ProcessPoolExecutor, server: RedisProcess, prefix: str, rules: str, op: str,
    requests: list[dict[str, Any]], tasks: int = 64,
) -> list[dict[str, Any]]:  # fmt: skip
    """Split `requests` over the processes; all results, in no particular order."""
    shares = [requests[i::PROCESSES] for i in range(PROCESSES)]
    futures = [
        pool.submit(concurrency_worker.run, server.url, prefix, rules, NOW, op, share, tasks)
        for share in shares
    ]
    return [result for future in futures for result in future.result(timeout=600)]


def _scope(rules: str, campaign: str) -> Scope:
    registry = Registry()
    registry.install(compile_text(rules)[0])
    loaded = registry.campaign(campaign)
    assert loaded is not None
    return loaded.scope


async def _log_and_counters(
    server: RedisProcess, prefix: str, scope: Scope, keys: list[str]
) -> tuple[list[dict[str, Any]], list[int]]:
    store = open_store(server.url, prefix=prefix, timeout=30.0)
    try:
        entries: list[dict[str, Any]] = []
        while True:
            batch = await store.log(scope, entries[-1]["id"] if entries else "0", 10_000)
            entries += batch
            if len(batch) < 10_000:
                break
        return entries, await store.counters(scope, keys)
    finally:
        await store.drop()
        await store.close()


def test_stock_limits_and_budget_hold_under_20000_concurrent_claims(
    pool: ProcessPoolExecutor, redis_server: RedisProcess
) -> None:
    prefix = f"race:{uuid.uuid4().hex[:8]}:"
    requests = [{"campaign": "flash", "user": f"u{n % 5000}"} for n in range(20_000)]
    random.Random(7).shuffle(requests)
    results = _race(pool, redis_server, prefix, FLASH, "claim", requests)
    issued = [r for r in results if r["status"] == "issued"]
    assert len(issued) == 1000
    # Counter equality treats a missing reason as zero: how many users reach their limit
    # before the stock runs out depends on the interleaving.
    assert Counter(r["reason"] for r in results if r["status"] == "rejected") == Counter(
        out_of_stock=19_000 - _user_limited(results), user_limit=_user_limited(results)
    )
    per_user = Counter(r["user"] for r in _issued_requests(requests, results))
    assert max(per_user.values()) <= 3
    codes = [c["code"] for r in issued for c in r["coupons"]]
    assert len(set(codes)) == 1000
    scope = _scope(FLASH, "flash")
    log, (stock, budget) = asyncio.run(
        _log_and_counters(redis_server, prefix, scope, ["s:c10:all", "b:*:all"])
    )
    claims = [e for e in log if e["type"] == "claim"]
    assert len(claims) == 1000
    assert sorted(code for e in claims for code in e["codes"]) == sorted(codes)
    assert stock == 1000
    assert budget == 1000 * 1000  # minor units: 1000 coupons of 10.00, exactly the budget


def _user_limited(results: list[dict[str, Any]]) -> int:
    return sum(1 for r in results if r.get("reason") == "user_limit")


def _issued_requests(
    requests: list[dict[str, Any]], results: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    # Results come back per process in request order: re-pair them the same way.
    shares = [requests[i::PROCESSES] for i in range(PROCESSES)]
    paired = [request for share in shares for request in share]
    for request, result in zip(paired, results, strict=True):
        if result["status"] == "issued":
            yield request


def test_fifty_simultaneous_claims_with_one_key_issue_once(
    pool: ProcessPoolExecutor, redis_server: RedisProcess
) -> None:
    prefix = f"race:{uuid.uuid4().hex[:8]}:"
    request = {"campaign": "flash", "user": "u1", "device": "d1", "key": "same-key"}
    results = _race(pool, redis_server, prefix, FLASH, "claim", [dict(request)] * 50, tasks=50)
    assert {r["status"] for r in results} == {"issued"}
    assert sum(not r["replayed"] for r in results) == 1
    assert len({r["coupons"][0]["code"] for r in results}) == 1
    assert len({r["claim_id"] for r in results}) == 1
    log, (stock,) = asyncio.run(
        _log_and_counters(redis_server, prefix, _scope(FLASH, "flash"), ["s:c10:all"])
    )
    assert len(log) == 1
    assert stock == 1


def test_fifty_simultaneous_redeems_of_one_code_redeem_once(
    pool: ProcessPoolExecutor, redis_server: RedisProcess
) -> None:
    prefix = f"race:{uuid.uuid4().hex[:8]}:"
    [claimed] = _race(
        pool, redis_server, prefix, FLASH, "claim", [{"campaign": "flash", "user": "u1"}]
    )
    code = claimed["coupons"][0]["code"]
    cart = {"items": [{"sku": "A", "price": "50.00", "qty": 1}]}
    redeems = [{"code": code, "user": "u1", "cart": cart, "order": f"o-{n}"} for n in range(50)]
    results = _race(pool, redis_server, prefix, FLASH, "redeem", redeems, tasks=50)
    assert Counter(r["status"] for r in results) == {"redeemed": 1, "rejected": 49}
    assert {r["reason"] for r in results if r["status"] == "rejected"} == {"already_redeemed"}
    log, _ = asyncio.run(_log_and_counters(redis_server, prefix, _scope(FLASH, "flash"), []))
    assert Counter(e["type"] for e in log) == {"claim": 1, "redeem": 1}


DRAW = """
ruleset "draws"
timezone "Asia/Shanghai"
currency CNY
campaign wheel {
    window 2026-11-11 .. 2026-11-11
    lottery {
        prize tv "TV" weight 5 stock 40
        prize mug "Mug" weight 100
        prize lamp "Lamp" weight 0
        prize pts points 10 weight 395
        otherwise "Thanks" weight 500
        guarantee lamp after 30 misses
    }
    limit per user 50
}
"""
WEIGHTS = {"tv": 5, "mug": 100, "lamp": 0, "pts": 395, "otherwise": 500}


@pytest.mark.slow
def test_one_hundred_thousand_draws_keep_stock_odds_and_pity(
    pool: ProcessPoolExecutor, redis_server: RedisProcess
) -> None:
    prefix = f"race:{uuid.uuid4().hex[:8]}:"
    requests = [{"campaign": "wheel", "user": f"u{n % 2000}"} for n in range(100_000)]
    results = _race(pool, redis_server, prefix, DRAW, "claim", requests, tasks=48)
    assert Counter(r["status"] for r in results) == {"issued": 100_000}
    prizes = Counter(r["prize"] for r in results)
    assert prizes["tv"] <= 40
    log, (tv_stock,) = asyncio.run(
        _log_and_counters(redis_server, prefix, _scope(DRAW, "wheel"), ["s:tv:all"])
    )
    assert tv_stock == prizes["tv"] <= 40
    assert len(log) == 100_000
    drawn = [e for e in log if not e["draw"]["pity"]]
    total = sum(WEIGHTS.values())
    for prize in ("mug", "pts"):  # unlimited prizes: their odds hold for the whole run
        _within_five_sigma(
            sum(1 for e in drawn if e["reward"] == prize), len(drawn), WEIGHTS[prize] / total
        )
    # While TV stock lasted (the draws before its 40th win), its published odds held.
    tv_wins = [i for i, e in enumerate(drawn) if e["reward"] == "tv"]
    before = tv_wins[-1] + 1 if len(tv_wins) == 40 else len(drawn)
    _within_five_sigma(len(tv_wins), before, WEIGHTS["tv"] / total)
    _pity_honoured(log, after=30)


def _within_five_sigma(hits: int, draws: int, p: float) -> None:
    sigma = math.sqrt(draws * p * (1 - p))
    assert abs(hits - draws * p) <= 5 * sigma, (hits, draws, p)


def _pity_honoured(log: list[dict[str, Any]], after: int) -> None:
    """In each user's draws, in commit order, no more than `after` misses in a row: the
    lamp (weight 0, no stock) comes only by guarantee, exactly on the next draw."""
    misses: Counter[str] = Counter()
    for entry in log:
        user = entry["user"]
        if entry["reward"] == "lamp":
            assert misses[user] == after and entry["draw"]["pity"]
            misses[user] = 0
        else:
            misses[user] += 1
            assert misses[user] <= after
