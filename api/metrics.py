"""Prometheus metrics: requests and latency per route, claims by outcome and reason, store
latency and errors.

With several uvicorn workers, `promo serve` sets PROMETHEUS_MULTIPROC_DIR before the
workers start, so each one writes its samples to files there and `/metrics`, answered by
any worker, adds up every worker's (prometheus_client's multiprocess mode).

Label children are cached: `labels()` takes a lock and hashes its arguments, and the
request path should only do that once per distinct label set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from engine.store import CounterStore, StoreUnavailable

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)

REQUESTS = Counter(
    "promo_http_requests", "HTTP requests by route template, method and status",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "promo_http_request_duration_seconds", "Time to answer, by route template",
    ["route"], buckets=_LATENCY_BUCKETS,
)  # fmt: skip
CLAIMS = Counter(
    "promo_claims", "Claims by outcome (issued, replayed, rejected, error) and reason",
    ["outcome", "reason"],
)  # fmt: skip
STORE_LATENCY = Histogram(
    "promo_store_duration_seconds", "Store calls by operation",
    ["operation"], buckets=_STORE_BUCKETS,
)  # fmt: skip
STORE_ERRORS = Counter(
    "promo_store_errors", "Store calls that failed (unreachable or too slow), by operation",
    ["operation"],
)  # fmt: skip

_requests: dict[tuple[str, str, int], Any] = {}
_latency: dict[str, Any] = {}
_claims: dict[tuple[str, str], Any] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status)
    child = _requests.get(key)
    if child is None:
        child = _requests[key] = REQUESTS.labels(route, method, str(status))
    child.inc()
    timer = _latency.get(route)
    if timer is None:
        timer = _latency[route] = LATENCY.labels(route)
    timer.observe(seconds)


def count_claim(outcome: str, reason: str = "") -> None:
    key = (outcome, reason)
    child = _claims.get(key)
    if child is None:
        child = _claims[key] = CLAIMS.labels(outcome, reason)
    child.inc()


def count_claim_result(result: dict[str, Any]) -> None:
    if result.get("replayed"):
        count_claim("replayed")
    elif result.get("status") == "issued":
        count_claim("issued")
    else:
        count_claim("rejected", str(result.get("reason") or ""))


def exposition() -> tuple[bytes, str]:
    """The text format of every metric, of every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# --- the store, timed ---------------------------------------------------------------------

# Every CounterStore method the engine calls while serving.
_TIMED = (
    "claim", "redeem", "revert", "counters", "coupons", "pity", "put_terms", "get_terms",
    "list_add", "list_remove", "list_replace", "lists", "set_paused", "paused",
    "add_version", "activate", "versions", "log", "add_stats", "stats", "ping",
)  # fmt: skip
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def _timed(operation: str, call: F) -> F:
    timer = STORE_LATENCY.labels(operation)
    errors = STORE_ERRORS.labels(operation)
    clock = time.perf_counter

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return await call(*args, **kwargs)
        except StoreUnavailable:
            errors.inc()
            raise
        finally:
            timer.observe(clock() - start)

    return cast(F, timed)


class MeasuredStore:
    """A CounterStore that times every call and counts the failed ones; anything else
    (close, drop, methods added later) goes straight to the store."""

    def __init__(self, store: CounterStore) -> None:
        self.inner = store
        for name in _TIMED:
            method = getattr(store, name, None)
            if method is not None:
                setattr(self, name, _timed(name, method))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def measured(store: CounterStore) -> CounterStore:
    return cast(CounterStore, MeasuredStore(store))
