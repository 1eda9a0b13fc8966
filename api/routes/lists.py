"""Operator endpoints for runtime lists (LANGUAGE.md 10.6): blocklists and allowlists that
rules read with `list "NAME"`. A change is written to the store, seen by this worker at
once and by every other worker within a second. A list never written is empty."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.deps import Operator, Service
from api.openapi import responses
from api.schemas import ListChange, ListValues, ListView

router = APIRouter(prefix="/v1/lists", tags=["operators"])
ListName = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[^/]+$", examples=["blocked_users"])
]
Value = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^/]+$", examples=["u-4711"])]
_ERRORS = responses(401, 403, 422, 503)


def _change(svc: Service, name: str) -> dict[str, Any]:
    # This worker's cache already holds its own change: no second round trip.
    return {"name": name, "count": len(svc.engine.cache.lists.get(name, ()))}


@router.get("/{name}", response_model=ListView, responses=_ERRORS)
async def get_list(name: ListName, svc: Operator) -> dict[str, Any]:
    """The list's values, sorted, as the store holds them now."""
    _, lists = await svc.store.lists()
    values = sorted(lists.get(name, ()))
    return {"name": name, "count": len(values), "values": values}


@router.put("/{name}", response_model=ListChange, responses=_ERRORS)
async def replace_list(name: ListName, body: ListValues, svc: Operator) -> dict[str, Any]:
    """Replace the whole list, atomically (an empty `values` empties it)."""
    await svc.engine.list_replace(name, body.values)
    return _change(svc, name)


@router.post("/{name}/members", response_model=ListChange, responses=_ERRORS)
async def add_members(name: ListName, body: ListValues, svc: Operator) -> dict[str, Any]:
    """Add values; those already in the list stay once."""
    await svc.engine.list_add(name, body.values)
    return _change(svc, name)


@router.delete("/{name}/members/{value}", response_model=ListChange, responses=_ERRORS)
async def remove_member(name: ListName, value: Value, svc: Operator) -> dict[str, Any]:
    """Remove one value (nothing happens if it is not in the list)."""
    await svc.engine.list_remove(name, [value])
    return _change(svc, name)
