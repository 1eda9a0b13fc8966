"""The baseline of the HTTP benchmark: a bare FastAPI endpoint that parses a body shaped
like our claim request with pydantic and returns JSON, with nothing else to do.

    uvicorn benchmarks.http_bare:app --port 8001 --loop uvloop --http httptools
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, Field


class Item(BaseModel):
    sku: str
    category: str = ""
    price: str = Field(pattern=r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$")
    qty: int = Field(ge=1)


class Cart(BaseModel):
    items: list[Item] = []


class Context(BaseModel):
    channel: str = ""
    cart: Cart = Cart()


class ClaimBody(BaseModel):
    campaign: str
    user: str
    device: str | None = None
    ip: str | None = None
    context: Context = Context()


class ClaimAnswer(BaseModel):
    status: str
    campaign: str
    user: str
    items: int


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/v1/claims", response_model=ClaimAnswer)
async def claim(body: ClaimBody) -> ClaimAnswer:
    return ClaimAnswer(
        status="issued", campaign=body.campaign, user=body.user, items=len(body.context.cart.items)
    )
