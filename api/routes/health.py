"""Probes and metrics: `/healthz` (the process is up), `/readyz` (the store answers and
rules are loaded: send traffic here), `/metrics` (Prometheus text, operator key)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import Operator, service
from api.errors import ApiError
from api.metrics import exposition
from api.openapi import responses
from api.schemas import Health, Ready
from engine.store import StoreUnavailable

router = APIRouter(tags=["probes"])


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, Any]:
    """The process is up; `worker` is its pid (also in the X-Promo-Worker header)."""
    return {"status": "ok", "worker": os.getpid()}


@router.get("/readyz", response_model=Ready, responses=responses(503))
async def readyz(request: Request) -> dict[str, Any]:
    """Ready for traffic: the store answers within 250 ms and rules are loaded."""
    svc = service(request)
    try:
        await svc.store.ping()
    except StoreUnavailable:
        raise ApiError("not_ready", "the store is unavailable") from None
    count = len(svc.engine.registry.rulesets())
    if count == 0:
        raise ApiError("not_ready", "no ruleset is loaded")
    return {"status": "ready", "rulesets": count}


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **responses(401, 403),
    },
)
async def metrics(svc: Operator) -> Response:
    """Prometheus metrics of every worker: requests and latency per route, claims by
    outcome and reason, store latency and errors."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
