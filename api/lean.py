"""Lean routes: the storefront's hot paths inside the FastAPI app.

FastAPI's per-request machinery (dependency solving, body validation into models,
response validation and encoding) cost 2.4x a bare Starlette endpoint on this machine
(../shared/bench/results-http.md). A `LeanRoute` is documented like any FastAPI route
(its `endpoint` is a stub whose signature gives OpenAPI the body, the headers and the
answer) but is served by `handler(request) -> Response` directly: the handler reads the
raw body, parses it with orjson, lets the engine validate it, and answers orjson bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.errors import problem

Handler = Callable[[Request], Awaitable[Response]]


class LeanRoute(APIRoute):
    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, handler: Handler, **kwargs: Any
    ) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.app = _serve(handler)


def _serve(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class BadBody(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or BadBody with the 400/422 problem."""
    body = await request.body()
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadBody(problem("malformed_json", f"the body is not valid JSON: {exc}")) from None
    if type(value) is not dict:
        raise BadBody(problem("invalid_request", "the body must be a JSON object", field="body"))
    return value


def json_response(value: Any) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")
