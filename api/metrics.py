"""Prometheus metrics: requests and latency per route, claims by outcome and reason, store
latency and errors.

With several uvicorn workers, `promo serve` sets PROMETHEUS_MULTIPROC_DIR before the
workers start, so each one writes its samples to files there and `/metrics`, answered by
any worker, adds up every worker's (prometheus_client's multiprocess mode).

The request path does not touch prometheus_client: each `inc` or `observe` takes a lock,
and a claim made five of them (about 10 us on this machine). It adds to plain counts
instead (`_Pending`), which go into the metrics in one batch before anything reads them
(a collector registered ahead of the metrics, and `exposition`), and at most a second
after they were counted, so that other workers' `/metrics` see them in multiprocess mode.
"""

from __future__ import annotations

import asyncio
import os
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable
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
from prometheus_client.registry import Collector

from engine.store import CounterStore, StoreUnavailable


class _Pending:
    """Counts and histogram observations not yet in the metrics, by label child."""

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        # child -> [sum, count per bucket] (the child's upper bounds, +Inf last)
        self.observed: dict[Any, tuple[list[float], list[int]]] = {}
        self.bounds: dict[Any, list[float]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def count(self, child: Any) -> None:
        self.counts[child] = self.counts.get(child, 0) + 1
        self._soon()

    def observe(self, child: Any, seconds: float) -> None:
        found = self.observed.get(child)
        if found is None:
            bounds = self.bounds.get(child)
            if bounds is None:
                # prometheus_client keeps a child's upper bounds in `_upper_bounds`.
                bounds = self.bounds[child] = list(child._upper_bounds)
            found = self.observed[child] = ([0.0], [0] * len(bounds))
        found[0][0] += seconds
        # observe() counts the first bucket whose bound is >= the value: bisect_left.
        found[1][bisect_left(self.bounds[child], seconds)] += 1
        self._soon()

    def _soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop (a script, a test): straight in
            return
        if self._timer is None or self._loop is not loop:  # a test's loop may be gone
            self._loop, self._timer = loop, loop.call_later(1.0, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        counts, self.counts = self.counts, {}
        observed, self.observed = self.observed, {}
        for child, n in counts.items():
            child.inc(n)
        for child, (total, buckets) in observed.items():
            # What Histogram.observe does per value, once per batch: its sum and buckets
            # are prometheus_client value objects (`_sum`, `_buckets`), shared with the
            # multiprocess files.
            child._sum.inc(total[0])
            for bucket, n in zip(child._buckets, buckets, strict=True):
                if n:
                    bucket.inc(n)


_pending = _Pending()


class _FlushFirst(Collector):
    """Registered before the metrics, so that every read of the registry (a scrape, a
    test's `get_sample_value`) first moves the pending counts into them."""

    def collect(self) -> Iterable[Any]:
        _pending.flush()
        return []

    def describe(self) -> Iterable[Any]:
        return []


REGISTRY.register(_FlushFirst())

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
    _pending.count(child)
    timer = _latency.get(route)
    if timer is None:
        timer = _latency[route] = LATENCY.labels(route)
    _pending.observe(timer, seconds)


def count_claim(outcome: str, reason: str = "") -> None:
    key = (outcome, reason)
    child = _claims.get(key)
    if child is None:
        child = _claims[key] = CLAIMS.labels(outcome, reason)
    _pending.count(child)


def exposition() -> tuple[bytes, str]:
    """The text format of every metric, of every worker in multiprocess mode."""
    _pending.flush()
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
    "changes", "add_version", "activate", "versions", "active_versions", "log", "add_stats",
    "stats", "ping",
)  # fmt: skip
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def _timed(operation: str, call: F) -> F:
    timer = STORE_LATENCY.labels(operation)
    errors = STORE_ERRORS.labels(operation)
    clock, observe = time.perf_counter, _pending.observe

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return await call(*args, **kwargs)
        except StoreUnavailable:
            _pending.count(errors)
            raise
        finally:
            observe(timer, clock() - start)

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
