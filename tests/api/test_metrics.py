"""/metrics: requests and latency per route template, claims by outcome and reason, store
latency and errors (the registry is the process's, so the tests compare before and after)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.api.harness import Api
from tests.api.helpers import claim


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_claims_and_store_calls(api: Api) -> None:
    route = {"route": "/v1/claims", "method": "POST", "status": "200"}
    requests = sample("promo_http_requests_total", **route)
    issued = sample("promo_claims_total", outcome="issued", reason="")
    replayed = sample("promo_claims_total", outcome="replayed", reason="")
    limited = sample("promo_claims_total", outcome="rejected", reason="user_limit")
    unknown = sample("promo_claims_total", outcome="error", reason="unknown_campaign")
    store_calls = sample("promo_store_duration_seconds_count", operation="claim")

    await claim(api.sf, key="m-1")
    await claim(api.sf, key="m-1")
    await claim(api.sf)
    await claim(api.sf, campaign="nope")
    revert = await api.sf.post("/v1/coupons/NOPE1234/revert")
    assert revert.status_code == 200

    assert sample("promo_http_requests_total", **route) == requests + 3
    assert sample("promo_claims_total", outcome="issued", reason="") == issued + 1
    assert sample("promo_claims_total", outcome="replayed", reason="") == replayed + 1
    assert sample("promo_claims_total", outcome="rejected", reason="user_limit") == limited + 1
    assert sample("promo_claims_total", outcome="error", reason="unknown_campaign") == unknown + 1
    assert sample("promo_store_duration_seconds_count", operation="claim") >= store_calls + 3
    template = {"route": "/v1/coupons/{code}/revert"}
    assert sample("promo_http_request_duration_seconds_count", **template) >= 1

    text = (await api.op.get("/metrics")).text
    assert 'promo_http_requests_total{method="POST",route="/v1/claims",status="200"}' in text
    assert "promo_store_errors_total" in text or "promo_store_duration_seconds_bucket" in text


async def test_unmatched_paths_share_one_label(api: Api) -> None:
    before = sample("promo_http_requests_total", route="unmatched", method="GET", status="404")
    await api.anon.get("/no/such/path/1")
    await api.anon.get("/no/such/path/2")
    after = sample("promo_http_requests_total", route="unmatched", method="GET", status="404")
    assert after == before + 2
