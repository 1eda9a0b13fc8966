"""The one middleware of the service, in pure ASGI (no per-request Request objects):

- refuses a body over 256 KiB with 413, by its Content-Length before reading it, or while
  it streams in;
- names the worker that answered in `X-Promo-Worker` (its pid), so that a client or a test
  can tell the workers of `promo serve --workers N` apart;
- records requests and latency per route template (api/metrics.py).
"""

from __future__ import annotations

import os
import time

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.metrics import observe_request

MAX_BODY = 256 * 1024
_LIMIT_DETAIL = f"the body is larger than {MAX_BODY // 1024} KiB"


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes the limit."""


def worker_header() -> tuple[bytes, bytes]:
    """`X-Promo-Worker: PID`, the header every answer carries."""
    return (b"x-promo-worker", str(os.getpid()).encode())


class ServiceMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.worker = worker_header()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False
        worker = self.worker

        async def send_with_worker(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", ()), worker]
            await send(message)

        try:
            length = content_length(scope)
            if length is not None and length > MAX_BODY:
                await too_large()(scope, receive, send_with_worker)
            else:
                inner = receive if length is not None else _limited(receive)
                await self.app(scope, inner, send_with_worker)
        except BodyTooLarge:
            if started:
                raise
            await too_large()(scope, receive, send_with_worker)
        finally:
            observe_request(
                _template(scope, status), scope["method"], status, time.perf_counter() - start
            )


def _template(scope: Scope, status: int) -> str:
    """The route's path template: one label per route, whatever the path parameters."""
    template: str | None = getattr(scope.get("route"), "path", None)
    if template is not None:
        return template
    # Starlette's own routes (/docs, /openapi.json) set no route; their paths are fixed.
    # Anything else that matched nothing shares one label: paths must not mint labels.
    return str(scope["path"]) if status < 400 else "unmatched"


def too_large() -> Response:
    return problem("payload_too_large", _LIMIT_DETAIL)


def content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _limited(receive: Receive) -> Receive:
    """`receive` for a body of unknown length: counts it, and stops at the limit."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise BodyTooLarge
        return message

    return limited
