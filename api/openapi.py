"""The OpenAPI description: every error documented as application/problem+json with the
`Problem` schema, 503 with its Retry-After header, and the Bearer key scheme on the /v1
endpoints and /metrics. Routes list their error statuses with `responses(...)`; `build`
adds what is the same everywhere, once, when /openapi.json is first asked for."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM
from api.schemas import Problem, RulesetUpload

_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No API key, or not a valid one",
    403: "The key's role may not call this endpoint",
    404: "Unknown campaign, ruleset, version or route",
    413: "Body larger than 256 KiB",
    422: "A request error (LANGUAGE.md 10.7) naming the field",
    503: "The store is unavailable or slower than 250 ms: nothing was written; retry",
}
_REF = {"$ref": "#/components/schemas/Problem"}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for a route's `responses=`."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM: {"schema": _REF}},
        }
        if status == 503:
            entry["headers"] = _RETRY_AFTER
        out[status] = entry
    return out


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # Models only named by $ref (errors, the JSON upload), which FastAPI cannot see.
    for model in (Problem, RulesetUpload):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(model_schema.pop("$defs", {}))
        schemas[model.__name__] = model_schema
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "PROMO_API_KEYS"}
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _finish(path, operation)
    # FastAPI's own validation error schemas: this API answers problems instead.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema


def _finish(path: str, operation: dict[str, Any]) -> None:
    if path.startswith("/v1/") or path == "/metrics":
        operation["security"] = [{"bearer": []}]
    for status, response in operation.get("responses", {}).items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {PROBLEM: {"schema": _REF}}
            if status == "503":
                response["headers"] = _RETRY_AFTER
