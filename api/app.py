"""The FastAPI application: `create_app(settings)` for `promo serve` and tests, and
`create_app_from_env()`, the factory each uvicorn worker starts from.

The lifespan builds one `Service` per worker: the store (timed, api/metrics.py), the
engine with its clock, the rulesets the store says are active (api/versions.py), the
background refreshes (lists and pauses, refusal statistics, versions), and closes them.

    app = create_app(Settings(rules_dir=Path("examples"), store_url="memory"))
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from api.auth import Keys
from api.clockmode import claim_clock_mode
from api.deps import Service
from api.errors import install_handlers
from api.lean import LeanRoutes
from api.metrics import measured
from api.middleware import ServiceMiddleware, worker_header
from api.openapi import build
from api.routes import campaigns, health, lists, rulesets, storefront
from api.rulefiles import compile_dir
from api.settings import Settings, shown_url
from api.versions import Versions, seed
from engine.engine import Engine
from engine.store.open import open_store

log = logging.getLogger("promo.api")

DESCRIPTION = """Promotion rules over HTTP (LANGUAGE.md 10). Storefront endpoints take a
storefront or operator key, operator endpoints an operator key: `Authorization: Bearer
KEY`. Every error is `application/problem+json`. Money is always a string. See
docs/api.md for retry semantics."""


class PromoApp(FastAPI):
    """The FastAPI app, with its hot routes answered first (api/lean.py): a POST to one of
    them skips FastAPI's middleware stack and router, which cost more than the claim."""

    lean: LeanRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self.lean
        if lean is not None and scope["type"] == "http" and scope["method"] == "POST":
            found = lean.match(scope["path"])
            if found is not None:
                await lean.serve(self.state.service, found, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    keys = Keys.parse(settings.api_keys)  # a malformed PROMO_API_KEYS fails here, at start

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await start_service(settings, keys)
        app.state.service = service
        if settings.freeze_heap:
            freeze_heap()
        try:
            yield
        finally:
            await stop_service(service)

    app = PromoApp(
        title="promo-engine",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        # Metrics are Prometheus (api/metrics.py). FastAPI's native OpenTelemetry would
        # look up the global providers on every request to learn that nobody set one.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        openapi_tags=[
            {"name": "storefront", "description": "For the storefront's servers (hot paths)"},
            {"name": "operators", "description": "Campaigns, lists and ruleset versions"},
            {"name": "probes", "description": "Health, readiness and metrics"},
        ],
    )
    hot = storefront.routes()
    app.router.routes.extend(hot)
    app.lean = LeanRoutes(hot, worker_header())
    for module in (campaigns, lists, rulesets, health):
        app.include_router(module.router)
    install_handlers(app)
    app.add_middleware(ServiceMiddleware)
    schema: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not schema:
            schema.update(build(app))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def create_app_from_env() -> FastAPI:
    """The app of one `promo serve --workers N` worker (PROMO_* variables, settings.py)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    return create_app(Settings.from_env())


_YOUNG_THRESHOLD = 10_000


def freeze_heap() -> None:
    """Move every object alive after startup out of the collector's sight (gc.freeze).

    Requests allocate fast, so the collector's full pass ran about twice a second under
    load, and each walked the whole heap (FastAPI, pydantic, the compiled rules: some
    100,000 objects): 40 ms with the event loop stopped, 7% of a worker's CPU, and the
    p99 of every request in flight then (py-spy and gc.callbacks, 64 connections on
    POST /v1/claims). What startup made lives as long as the process; frozen, a full
    pass walks only what came after, in about a millisecond.

    The youngest generation is collected after 10,000 more allocations than frees
    instead of 700: 64 requests in flight hold more than 700 objects, so the collector
    ran every few requests for nothing (2.5% of the worker's CPU); it now runs when
    garbage in cycles piles up, which requests hardly make."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_THRESHOLD, older, oldest)


async def start_service(settings: Settings, keys: Keys) -> Service:
    store = settings.store or open_store(
        settings.store_url, prefix=settings.prefix, timeout=settings.store_timeout
    )
    clock = settings.make_clock()
    engine = Engine(
        measured(store), clock, seed=settings.lottery_seed,
        refresh_interval=settings.refresh_interval,
    )  # fmt: skip
    if settings.seed:
        where = shown_url(settings.store_url)
        await claim_clock_mode(store, settings.rehearse is not None, where)
        if settings.rules_dir is not None:
            for note in await seed(store, compile_dir(settings.rules_dir), clock.now()):
                log.warning("%s", note)
    versions = Versions(engine, engine.store, poll=settings.version_poll)
    await versions.sync()
    await engine.start()
    versions.start()
    return Service(engine, engine.store, keys, versions, settings)


async def stop_service(service: Service) -> None:
    await service.versions.stop()
    # engine.close() cancels its refresh tasks and awaits them. Python 3.11 can lose a
    # cancellation inside redis-py (asyncio.wait_for keeps a reply that arrived with it),
    # and the task then runs on: cancelling the close again re-sends it.
    closing = asyncio.ensure_future(service.engine.close())
    while not (await asyncio.wait({closing}, timeout=0.25))[0]:
        log.warning("a background task ignored its cancellation; cancelling again")
        closing.cancel()
    if not closing.cancelled():
        closing.result()
    if service.settings.store is None:  # a store given by the caller is the caller's to close
        await service.store.close()
