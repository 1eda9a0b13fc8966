"""Operator endpoints for rulesets as versions (api/versions.py): upload, activate (and so
roll back), history with diffs, and what this worker serves."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError

from api.deps import Operator
from api.errors import ApiError
from api.openapi import responses
from api.schemas import (
    ActivateResult,
    RulesetList,
    RulesetUpload,
    UploadResult,
    VersionHistory,
)
from api.versions import diff

router = APIRouter(prefix="/v1/rulesets", tags=["operators"])
RulesetId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[^/]+$", examples=["everyday"])
]
Number = Annotated[int, Path(ge=1, le=1_000_000, examples=[1])]

_EXAMPLE = """ruleset "weekend"
timezone "Asia/Shanghai"
currency CNY

campaign weekend_5 "Weekend: 5 off 50" {
    window 2026-01-01 .. 2030-12-31
    discount {
        value 5 off
        min spend 50
    }
}
"""
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": _EXAMPLE},
            "application/json": {"schema": {"$ref": "#/components/schemas/RulesetUpload"}},
        },
    }
}


async def _source(request: Request) -> tuple[str, str]:
    """(source, file) from a text/plain body, or from JSON `{source, file}`."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            upload = RulesetUpload.model_validate_json(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            if error["type"] == "json_invalid":
                raise ApiError(
                    "malformed_json", f"the body is not valid JSON: {error['msg']}"
                ) from None
            field = ".".join(str(p) for p in error["loc"]) or "body"
            raise ApiError("invalid_request", f"{field}: {error['msg']}", field=field) from None
        return upload.source, upload.file
    try:
        return body.decode("utf-8").removeprefix("\ufeff"), "upload.promo"
    except UnicodeDecodeError as exc:
        raise ApiError(
            "invalid_request", f"the body is not UTF-8 text (byte {exc.start + 1})", field="body"
        ) from None


@router.post(
    "",
    status_code=201,
    response_model=UploadResult,
    responses={
        200: {"model": UploadResult, "description": "This text is a version already"},
        **responses(400, 401, 403, 422, 503),
    },
    openapi_extra=_UPLOAD_BODY,
)
async def upload(
    request: Request,
    response: Response,
    svc: Operator,
    activate: Annotated[bool, Query(description="activate the new version at once")] = False,
) -> dict[str, Any]:
    """Upload a ruleset's source (text/plain, or JSON `{source, file}`). It is compiled:
    errors answer 422 with the compiler's diagnostics (file:line:col) and nothing is
    stored or loaded. Otherwise it becomes a new version, active only when asked."""
    source, file = await _source(request)
    uploaded = await svc.versions.upload(source, file)
    ruleset = uploaded.compiled.id
    if activate:
        await svc.versions.activate(ruleset, uploaded.version)
    if not uploaded.created:
        response.status_code = 200
    return {
        "ruleset": ruleset,
        "version": uploaded.version,
        "created": uploaded.created,
        "active": svc.versions.served.get(ruleset) == uploaded.version,
        "campaigns": [c.id for c in uploaded.compiled.campaigns],
        "warnings": [d.to_json() for d in uploaded.warnings],
    }


@router.post(
    "/{id}/versions/{number}/activate",
    response_model=ActivateResult,
    responses=responses(401, 403, 404, 422, 503),
)
async def activate(id: RulesetId, number: Number, svc: Operator) -> dict[str, Any]:
    """Activate a version: this worker serves it when this answers, every other worker
    within a second. Activating an earlier version is the rollback."""
    previous = await svc.versions.activate(id, number)
    return {"ruleset": id, "version": number, "previous": previous}


@router.get(
    "/{id}/versions", response_model=VersionHistory, responses=responses(401, 403, 404, 422, 503)
)
async def versions(id: RulesetId, svc: Operator) -> dict[str, Any]:
    """Every version, oldest first, each with the unified diff from the one before."""
    history = await svc.versions.history(id)
    loaded = svc.engine.registry.ruleset(id)
    tz = loaded.tz if loaded is not None else dt.UTC
    entries, before, previous = [], "", 0
    for version in history:
        created = dt.datetime.fromtimestamp(version.created_at, tz).isoformat()
        entries.append({
            "version": version.number,
            "created_at": created,
            "active": version.active,
            "diff": diff(before, version.source, id, previous, version.number),
        })  # fmt: skip
        before, previous = version.source, version.number
    active = next((v.number for v in history if v.active), None)
    return {"ruleset": id, "active": active, "versions": entries}


@router.get("", response_model=RulesetList, responses=responses(401, 403))
async def loaded(svc: Operator) -> dict[str, Any]:
    """The rulesets this worker serves, with their version."""
    rulesets = sorted(svc.engine.registry.rulesets(), key=lambda r: r.id)
    return {
        "rulesets": [
            {
                "id": r.id,
                "version": svc.versions.served.get(r.id),
                "currency": r.currency,
                "timezone": r.timezone,
                "campaigns": [c.id for c in r.campaigns],
            }
            for r in rulesets
        ]
    }
