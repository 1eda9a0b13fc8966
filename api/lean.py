"""Lean routes: the storefront's hot paths, answered ahead of FastAPI.

FastAPI's per-request machinery (its middleware stack, routing, dependency solving, body
and response models) cost 2.4x a bare Starlette endpoint on this machine
(../shared/bench/results-http.md), and a py-spy profile of the claim route put its
middleware and routing alone at 18% of the process. So a hot route is declared twice
over: as a `LeanRoute` of the FastAPI app, whose `endpoint` is a stub whose signature gives
OpenAPI the body, the headers and the answer (and which answers a wrong method with 405
like any route); and in `LeanRoutes`, which `PromoApp.__call__` (api/app.py) asks first,
so that a POST to a hot path never enters FastAPI. There it gets what the middleware
gives every answer (api/middleware.py): the 256 KiB body limit (413), `X-Promo-Worker`,
the request metrics, and a 500 problem when the handler fails.

A handler reads the raw body with orjson, lets the engine validate it, and answers JSON
bytes (200) or a problem `Response`: `handler(service, scope, body, path_params)`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from api.deps import Service
from api.errors import problem
from api.metrics import observe_request
from api.middleware import MAX_BODY, content_length, too_large

log = logging.getLogger("promo.api")
Answer = Response | bytes  # bytes: a 200 application/json body
Handler = Callable[[Service, Scope, bytes, dict[str, str]], Awaitable[Answer]]
_JSON = b"application/json"


class LeanRoute(APIRoute):
    """A FastAPI route for OpenAPI and for what LeanRoutes leaves to FastAPI (another
    method: 405); `handler` serves it."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, handler: Handler, **kwargs: Any
    ) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.handler = handler
        self.app = _through_fastapi(handler)


def _through_fastapi(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        service: Service = request.app.state.service
        answer = await handler(service, scope, await request.body(), request.path_params)
        if not isinstance(answer, Response):
            answer = Response(answer, 200, media_type="application/json")
        await answer(scope, receive, send)

    return app


class ClientGone(Exception):
    """The client closed the connection before its body arrived."""


class LeanRoutes:
    """The hot POST routes by path (one dict lookup), and by pattern for those with path
    parameters (`/v1/coupons/{code}/revert`)."""

    def __init__(self, routes: list[LeanRoute], worker: tuple[bytes, bytes]) -> None:
        self._exact = {r.path: r for r in routes if "{" not in r.path}
        self._patterns = [r for r in routes if "{" in r.path]
        self._worker = worker

    def match(self, path: str) -> tuple[LeanRoute, dict[str, str]] | None:
        route = self._exact.get(path)
        if route is not None:
            return route, {}
        for route in self._patterns:
            found = route.path_regex.match(path)
            if found is not None:
                return route, found.groupdict()
        return None

    async def serve(
        self, service: Service, found: tuple[LeanRoute, dict[str, str]], scope: Scope,
        receive: Receive, send: Send,
    ) -> None:  # fmt: skip
        route, params = found
        started = time.perf_counter()
        status = 500
        try:
            body = await _body(scope, receive)
            answer = (
                too_large() if body is None else await route.handler(service, scope, body, params)
            )
            status = await self._send(send, answer)
        except ClientGone:
            status = 499  # nobody to answer
        except Exception:
            log.exception("the %s handler failed", route.path)
            crash = problem("internal_error", "the service failed; the error is logged")
            status = await self._send(send, crash)
        finally:
            observe_request(route.path, "POST", status, time.perf_counter() - started)

    async def _send(self, send: Send, answer: Answer) -> int:
        if isinstance(answer, Response):
            status, body = answer.status_code, bytes(answer.body)
            headers = [*answer.raw_headers, self._worker]
        else:
            status, body = 200, answer
            headers = [(b"content-type", _JSON), (b"content-length", b"%d" % len(body)),
                       self._worker]  # fmt: skip
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return status


async def _body(scope: Scope, receive: Receive) -> bytes | None:
    """The request body, or None when it passes the limit (by its Content-Length before
    reading it, or as it streams in)."""
    length = content_length(scope)
    if length is not None and length > MAX_BODY:
        return None
    first: bytes = b""
    chunks: list[bytes] | None = None
    seen = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        seen += len(chunk)
        if seen > MAX_BODY:
            return None
        if chunks is not None:
            chunks.append(chunk)
        elif first:
            chunks = [first, chunk]
        else:
            first = chunk
        if not message.get("more_body", False):
            return b"".join(chunks) if chunks is not None else first


class BadBody(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or BadBody with the 400/422 problem."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(problem("malformed_json", f"the body is not valid JSON: {exc}")) from None
    if type(value) is not dict:
        raise BadBody(problem("invalid_request", "the body must be a JSON object", field="body"))
    return value


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value)
