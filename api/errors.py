"""Every error the service answers is `application/problem+json` (RFC 9457):
`{type, title, status, code, detail}`, plus `field` when one field of the request is
wrong and `diagnostics` when a ruleset does not compile.

The request errors of LANGUAGE.md 10.7 keep their code; the HTTP layer adds its own
(`malformed_json`, `payload_too_large`, `unauthorized` ...). docs/api.md lists them all.
Handlers below turn exceptions into problems in one place; the hot routes build the same
bytes directly (`problem`), without raising.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from dsl.errors import RuleError
from engine.errors import RequestError
from engine.store import StoreUnavailable

PROBLEM = "application/problem+json"
RETRY_AFTER = "1"  # seconds: a store blip is short, and clients retry with their key
log = logging.getLogger("promo.api")

# code -> (status, title)
CODES: dict[str, tuple[int, str]] = {
    # LANGUAGE.md 10.7
    "unknown_campaign": (404, "Unknown campaign"),
    "unknown_reward": (422, "Unknown reward"),
    "reward_required": (422, "Reward required"),
    "not_claimable": (422, "Not claimable"),
    "invalid_request": (422, "Invalid request"),
    "key_reused": (422, "Idempotency key reused"),
    # the service's own
    "malformed_json": (400, "Malformed JSON"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not_found": (404, "Not found"),
    "unknown_ruleset": (404, "Unknown ruleset"),
    "unknown_version": (404, "Unknown version"),
    "method_not_allowed": (405, "Method not allowed"),
    "payload_too_large": (413, "Payload too large"),
    "invalid_ruleset": (422, "Invalid ruleset"),
    "store_unavailable": (503, "Store unavailable"),
    "not_ready": (503, "Not ready"),
    "internal_error": (500, "Internal error"),
}
# The field a request error is about when the engine does not name one.
DEFAULT_FIELDS = {
    "unknown_campaign": "campaign",
    "unknown_reward": "reward",
    "reward_required": "reward",
    "not_claimable": "campaign",
    "key_reused": "Idempotency-Key",
}
_BY_STATUS = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


class ApiError(Exception):
    """A problem to answer; raised by routes and dependencies, turned into a response by
    the handler below."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.field = code, detail, field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem(
    code: str,
    detail: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    status: int | None = None,
) -> Response:
    """The problem+json response for `code`."""
    known_status, title = CODES.get(code, (status or 500, code.replace("_", " ").capitalize()))
    status = status or known_status
    body: dict[str, Any] = {
        "type": f"urn:promo:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    if extra:
        body.update(extra)
    all_headers = dict(headers or {})
    if status == 503:
        all_headers.setdefault("Retry-After", RETRY_AFTER)
    return Response(orjson.dumps(body), status, all_headers, media_type=PROBLEM)


def from_api_error(exc: ApiError) -> Response:
    return problem(exc.code, exc.detail, field=exc.field, headers=exc.headers, extra=exc.extra)


def from_request_error(exc: RequestError) -> Response:
    field = exc.field if exc.field is not None else DEFAULT_FIELDS.get(exc.code)
    return problem(exc.code, exc.detail, field=field)


def store_unavailable(exc: StoreUnavailable | None = None) -> Response:
    # Fail closed: nothing was written, or the step ran whole; the key makes a retry safe.
    detail = "the store did not answer in time; retry with the same Idempotency-Key"
    return problem("store_unavailable", detail)


def from_rule_error(exc: RuleError) -> Response:
    errors = exc.errors or exc.diagnostics
    first = errors[0].format() if errors else "the ruleset does not compile"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    extra = {"diagnostics": [d.to_json() for d in exc.diagnostics]}
    return problem("invalid_ruleset", first + more, extra=extra)


def from_validation_error(errors: list[Any]) -> Response:
    """pydantic errors of a body or a parameter: 400 when the JSON itself is broken,
    else 422 naming the first wrong field."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return problem("malformed_json", f"the body is not valid JSON: {first.get('msg', '')}")
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or "body"
    return problem("invalid_request", f"{field}: {first.get('msg', 'invalid')}", field=field)


def from_http_error(exc: StarletteHTTPException) -> Response:
    code = _BY_STATUS.get(exc.status_code)
    detail = str(exc.detail)
    if code == "not_found" and detail == "Not Found":
        detail = "no such route; see /docs"
    if code is None:
        code = {400: "malformed_json", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "internal_error"
        )
    headers = dict(exc.headers or {})
    return problem(code, detail, headers=headers, status=exc.status_code)


def install_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return from_api_error(exc)

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return from_request_error(exc)

    async def on_store_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("store unavailable on %s: %s", request.url.path, exc)
        return store_unavailable()

    async def on_rule_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RuleError)
        return from_rule_error(exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return from_validation_error(list(exc.errors()))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return from_http_error(exc)

    async def on_crash(request: Request, exc: Exception) -> Response:
        # Logged by the server with its traceback; the client learns nothing internal.
        return problem("internal_error", "the service failed; the error is logged")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestError, on_request_error)
    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    app.add_exception_handler(RuleError, on_rule_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
