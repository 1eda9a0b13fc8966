"""The storefront endpoints, the hot paths: evaluate, claim, redeem, revert.

Each is a LeanRoute (api/lean.py): `*_doc` stubs give OpenAPI the body and the answer,
and the handler below serves the request, ahead of FastAPI and from the raw body, with no
per-request work that could be done at startup. A store that is down or slower than
250 ms fails the claim, redeem or revert closed with 503 and Retry-After (the step ran
whole or not at all: retry with the same Idempotency-Key); evaluate still answers its
discounts and marks the store checks `unavailable`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Header, Path
from starlette.responses import Response
from starlette.types import Scope

from api.auth import authorization
from api.deps import Service
from api.errors import ApiError, from_api_error, from_request_error, problem, store_unavailable
from api.lean import Answer, BadBody, LeanRoute, json_bytes, json_object
from api.metrics import count_claim
from api.openapi import responses
from api.schemas import (
    ClaimRequest,
    ClaimResponse,
    EvaluateRequest,
    EvaluateResponse,
    RedeemRequest,
    RedeemResponse,
    RevertResponse,
)
from engine.errors import RequestError
from engine.store import StoreUnavailable

log = logging.getLogger("promo.api")
TAGS: list[str | Any] = ["storefront"]
_KEY_HEADER = b"idempotency-key"


def _check(svc: Service, scope: Scope) -> None:
    svc.keys.check(authorization(scope["headers"]), "storefront")


# What a hot route answers with a problem instead of a 500; anything else is a bug.
_EXPECTED = (BadBody, ApiError, RequestError, StoreUnavailable)


def _problem(exc: Exception) -> Response:
    """The problem answer of an expected error (`_EXPECTED`)."""
    if isinstance(exc, BadBody):
        return exc.response
    if isinstance(exc, ApiError):
        return from_api_error(exc)
    if isinstance(exc, RequestError):
        return from_request_error(exc)
    return store_unavailable()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


# --- evaluate -------------------------------------------------------------------------------


def evaluate_doc(body: EvaluateRequest) -> EvaluateResponse:  # pragma: no cover - docs only
    """Evaluate a cart (LANGUAGE.md 10.1): the discounts that apply, split line by line,
    what the user can still claim, nudges, and with `explain` why every other offer does
    not apply. Read-only."""
    raise NotImplementedError


async def evaluate(svc: Service, scope: Scope, raw: bytes, params: dict[str, str]) -> Answer:
    try:
        _check(svc, scope)
        return json_bytes(await svc.engine.evaluate(json_object(raw)))
    except _EXPECTED as exc:
        return _problem(exc)


# --- claim ------------------------------------------------------------------------------------


def claim_doc(
    body: ClaimRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retry with the same key: the original result, `replayed: true`.",
        ),
    ] = None,
) -> ClaimResponse:  # pragma: no cover - docs only
    """Claim a coupon, a pack or a lottery draw (LANGUAGE.md 10.2). With an
    Idempotency-Key, a retry returns the original result and counts nothing again; the
    same key with another reward, device or IP is 422 `key_reused`. After a 503 or a
    timeout, retry with the same key."""
    raise NotImplementedError


async def claim(svc: Service, scope: Scope, raw: bytes, params: dict[str, str]) -> Answer:
    try:
        _check(svc, scope)
        body = json_object(raw)
        if "key" in body:
            return problem(
                "invalid_request", "send the idempotency key as the Idempotency-Key header",
                field="key",
            )  # fmt: skip
        key = _header(scope, _KEY_HEADER)
        if key is not None:
            body["key"] = key
        outcome, reason, answer = await svc.engine.claim_json(body)
    except _EXPECTED as exc:
        if isinstance(exc, RequestError):
            count_claim("error", exc.code)
            if exc.field == "key":  # the claim's key is the Idempotency-Key header here
                exc.field = "Idempotency-Key"
        elif isinstance(exc, StoreUnavailable):
            count_claim("error", "store_unavailable")
        return _problem(exc)
    count_claim(outcome, reason)
    return answer


# --- redeem and revert -------------------------------------------------------------------------


def redeem_doc(body: RedeemRequest) -> RedeemResponse:  # pragma: no cover - docs only
    """Redeem a coupon at checkout (LANGUAGE.md 10.4). A retry with the same `order`
    returns the original result with `replayed: true`."""
    raise NotImplementedError


async def redeem(svc: Service, scope: Scope, raw: bytes, params: dict[str, str]) -> Answer:
    try:
        _check(svc, scope)
        return json_bytes(await svc.engine.redeem(json_object(raw)))
    except _EXPECTED as exc:
        return _problem(exc)


def revert_doc(
    code: Annotated[
        str,
        Path(
            min_length=1,
            max_length=64,
            pattern=r"^[0-9A-Za-z-]+$",
            examples=["CODE-FROM-THE-CLAIM"],
        ),
    ],
) -> RevertResponse:  # pragma: no cover - docs only
    """Revert a redeemed coupon when its order is cancelled (LANGUAGE.md 10.5): it is
    usable again until it expires. Stock and budget are not returned."""
    raise NotImplementedError


async def revert(svc: Service, scope: Scope, raw: bytes, params: dict[str, str]) -> Answer:
    try:
        _check(svc, scope)
        return json_bytes(await svc.engine.revert({"code": params["code"]}))
    except _EXPECTED as exc:
        return _problem(exc)


_BODY_ERRORS = (400, 401, 403, 413, 422, 503)


def routes() -> list[LeanRoute]:
    common: dict[str, Any] = {"methods": ["POST"], "tags": TAGS}
    return [
        LeanRoute(
            "/v1/evaluate", evaluate_doc, handler=evaluate, name="evaluate",
            responses=responses(*_BODY_ERRORS), **common,
        ),
        LeanRoute(
            "/v1/claims", claim_doc, handler=claim, name="claim",
            responses=responses(404, *_BODY_ERRORS), **common,
        ),
        LeanRoute(
            "/v1/redemptions", redeem_doc, handler=redeem, name="redeem",
            responses=responses(*_BODY_ERRORS), **common,
        ),
        LeanRoute(
            "/v1/coupons/{code}/revert", revert_doc, handler=revert, name="revert",
            responses=responses(401, 403, 404, 422, 503), **common,
        ),
    ]  # fmt: skip
