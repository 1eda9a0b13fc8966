"""Requests and checks shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx

from api.errors import PROBLEM

POT_CART: dict[str, Any] = {
    "shipping": "8.00",
    "items": [{"sku": "POT-1", "category": "kitchen", "price": "329.00", "qty": 1}],
}
EVALUATE: dict[str, Any] = {"context": {"user": {"id": "u1"}, "cart": POT_CART}, "explain": True}


def claim_body(user: str = "u1", campaign: str = "coupon_centre", **more: Any) -> dict[str, Any]:
    return {"campaign": campaign, "user": user, "device": "d1", "ip": "203.0.113.7", **more}


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is the problem+json of `code`, naming `field` when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "code", "detail"} <= body.keys(), body
    assert body["status"] == status and body["code"] == code, body
    assert body["detail"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


async def claim(client: httpx.AsyncClient, key: str | None = None, **fields: Any) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post("/v1/claims", json=claim_body(**fields), headers=headers)


async def issued_code(client: httpx.AsyncClient, user: str = "u1", **fields: Any) -> str:
    response = await claim(client, user=user, **fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "issued", body
    code: str = body["coupons"][0]["code"]
    return code
