"""Operator endpoints on both stores: campaigns with state and counters, pause and resume,
runtime lists, rulesets as versions (upload, 422 diagnostics, activate, rollback, diff)."""

from __future__ import annotations

from tests.api.harness import Api
from tests.api.helpers import EVALUATE, assert_problem, claim, issued_code
from tests.api.rules import BROKEN, EXTRA, SHOP, SHOP_V2


async def test_campaigns_list_states_and_counters(api: Api) -> None:
    await issued_code(api.sf)
    response = await api.op.get("/v1/campaigns")
    assert response.status_code == 200, response.text
    campaigns = {c["id"]: c for c in response.json()["campaigns"]}
    assert set(campaigns) == {"free_ship", "home_300", "coupon_centre", "pick_one", "spring_later"}
    assert campaigns["spring_later"]["state"] == "scheduled"
    centre = campaigns["coupon_centre"]
    assert centre["state"] == "live" and centre["ruleset"] == "shop" and centre["version"] == 1
    assert centre["kind"] == "coupons"
    assert centre["rewards"] == [
        {"id": "c10", "title": "10 off 99", "kind": "coupon", "face_value": "10.00"}
    ]
    assert centre["window"]["start"].startswith("2026-01-01T00:00:00+08:00")
    assert isinstance(centre["counters"], dict)
    one = await api.op.get("/v1/campaigns/coupon_centre")
    assert one.status_code == 200 and one.json()["id"] == "coupon_centre"
    assert_problem(await api.op.get("/v1/campaigns/nope"), 404, "unknown_campaign", "id")


async def test_pause_refuses_claims_and_discounts_until_resumed(api: Api) -> None:
    paused = await api.op.post("/v1/campaigns/coupon_centre/pause")
    assert paused.json() == {"campaign": "coupon_centre", "paused": True, "state": "paused"}
    assert (await api.op.post("/v1/campaigns/coupon_centre/pause")).status_code == 200  # idempotent
    assert (await claim(api.sf)).json() == {
        "status": "rejected",
        "reason": "paused",
        "replayed": False,
    }
    await api.op.post("/v1/campaigns/home_300/pause")
    body = (await api.sf.post("/v1/evaluate", json=EVALUATE)).json()
    assert "home_300" not in {d["campaign"] for d in body["discounts"]}
    assert {"campaign": "home_300", "reason": "paused"} in body["explanations"]
    resumed = await api.op.post("/v1/campaigns/coupon_centre/resume")
    assert resumed.json()["state"] == "live"
    assert (await claim(api.sf)).json()["status"] == "issued"
    assert_problem(await api.op.post("/v1/campaigns/nope/pause"), 404, "unknown_campaign")


async def test_lists_replace_add_remove_and_read(api: Api) -> None:
    put = await api.op.put("/v1/lists/blocked_users", json={"values": ["u1", "u2"]})
    assert put.json() == {"name": "blocked_users", "count": 2}
    assert (await claim(api.sf, user="u1")).json()["reason"] == "denied"
    added = await api.op.post("/v1/lists/blocked_users/members", json={"values": ["u3", "u2"]})
    assert added.json()["count"] == 3
    removed = await api.op.delete("/v1/lists/blocked_users/members/u1")
    assert removed.json()["count"] == 2
    assert (await claim(api.sf, user="u1")).json()["status"] == "issued"
    read = await api.op.get("/v1/lists/blocked_users")
    assert read.json() == {"name": "blocked_users", "count": 2, "values": ["u2", "u3"]}
    empty = await api.op.get("/v1/lists/never_written")
    assert empty.json() == {"name": "never_written", "count": 0, "values": []}
    bad = await api.op.put("/v1/lists/x", json={"values": [""]})
    assert_problem(bad, 422, "invalid_request", "values.0")


async def test_a_broken_upload_is_422_with_diagnostics_and_loads_nothing(api: Api) -> None:
    response = await api.op.post(
        "/v1/rulesets", content=BROKEN, headers={"content-type": "text/plain"}
    )
    body = assert_problem(response, 422, "invalid_ruleset")
    assert body["detail"].startswith("upload.promo:4:")
    assert "did you mean 'user.level'" in body["detail"]
    first = body["diagnostics"][0]
    assert (first["file"], first["line"], first["severity"]) == ("upload.promo", 4, "error")
    assert_problem(await api.op.get("/v1/rulesets/broken/versions"), 404, "unknown_ruleset")
    rulesets = (await api.op.get("/v1/rulesets")).json()["rulesets"]
    assert [r["id"] for r in rulesets] == ["shop"]


async def test_upload_activate_and_roll_back(api: Api) -> None:
    uploaded = await api.op.post(
        "/v1/rulesets", content=SHOP_V2, headers={"content-type": "text/plain"}
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["version"] == 2 and uploaded.json()["active"] is False
    assert (await claim(api.sf, user="a")).json()["status"] == "issued"  # still v1
    same = await api.op.post("/v1/rulesets", json={"source": SHOP_V2, "file": "shop.promo"})
    assert same.status_code == 200 and same.json()["created"] is False

    activated = await api.op.post("/v1/rulesets/shop/versions/2/activate")
    assert activated.json() == {"ruleset": "shop", "version": 2, "previous": 1}
    centre = (await api.op.get("/v1/campaigns/coupon_centre")).json()
    assert centre["version"] == 2 and centre["rewards"][0]["face_value"] == "15.00"

    history = (await api.op.get("/v1/rulesets/shop/versions")).json()
    assert history["active"] == 2 and [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][0]["diff"].startswith("--- /dev/null\n+++ shop@v1\n")
    diff = history["versions"][1]["diff"]
    assert '-    coupon c10 "10 off 99" {' in diff and '+    coupon c10 "15 off 99" {' in diff

    rollback = await api.op.post("/v1/rulesets/shop/versions/1/activate")
    assert rollback.json()["previous"] == 2
    assert (await api.op.get("/v1/campaigns/coupon_centre")).json()["rewards"][0][
        "face_value"
    ] == "10.00"
    assert_problem(
        await api.op.post("/v1/rulesets/shop/versions/9/activate"), 404, "unknown_version"
    )
    assert_problem(
        await api.op.post("/v1/rulesets/nope/versions/1/activate"), 404, "unknown_ruleset"
    )


async def test_upload_with_activate_serves_a_new_ruleset(api: Api) -> None:
    response = await api.op.post("/v1/rulesets?activate=true", content=EXTRA)
    assert response.status_code == 201
    assert response.json()["active"] is True and response.json()["campaigns"] == ["extra_gift"]
    discounts = (await api.sf.post("/v1/evaluate", json=EVALUATE)).json()["discounts"]
    assert "extra_gift" in {d["campaign"] for d in discounts}


async def test_an_upload_clashing_with_another_rulesets_campaign_is_422(api: Api) -> None:
    clash = SHOP.replace('ruleset "shop"', 'ruleset "copy"')
    body = assert_problem(await api.op.post("/v1/rulesets", content=clash), 422, "invalid_ruleset")
    assert "duplicate campaign" in body["detail"]


async def test_upload_bodies_that_are_not_text(api: Api) -> None:
    bad_utf8 = await api.op.post(
        "/v1/rulesets", content=b"\xff\xfe", headers={"content-type": "text/plain"}
    )
    assert_problem(bad_utf8, 422, "invalid_request", "body")
    bad_json = await api.op.post(
        "/v1/rulesets", content=b"{", headers={"content-type": "application/json"}
    )
    assert_problem(bad_json, 400, "malformed_json")
    no_source = await api.op.post("/v1/rulesets", json={"file": "x.promo"})
    assert_problem(no_source, 422, "invalid_request", "source")


async def test_probes(api: Api) -> None:
    health = await api.anon.get("/healthz")
    assert health.json()["status"] == "ok"
    assert health.json()["worker"] == int(health.headers["x-promo-worker"])
    ready = await api.anon.get("/readyz")
    assert ready.json() == {"status": "ready", "rulesets": 1}
