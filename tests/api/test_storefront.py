"""The storefront endpoints on both stores: evaluate, claim (with Idempotency-Key replay),
redeem, revert, and every request error they answer as problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.api.harness import Api
from tests.api.helpers import EVALUATE, POT_CART, assert_problem, claim, claim_body, issued_code


async def test_evaluate_answers_discounts_with_money_as_strings(api: Api) -> None:
    response = await api.sf.post("/v1/evaluate", json=EVALUATE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    amounts = {d["campaign"]: d["amount"] for d in body["discounts"]}
    assert amounts == {"home_300": "30.00", "free_ship": "8.00"}
    assert body["total_discount"] == "38.00" and body["paid"] == "299.00"
    claimable = {(c["campaign"], c.get("reward")): c["available"] for c in body["claimable"]}
    assert claimable[("coupon_centre", "c10")] is True
    assert {"campaign": "spring_later", "reason": "not_started"} in body["explanations"]


async def test_claim_then_replay_with_the_same_key(api: Api) -> None:
    first = await claim(api.sf, key="order-page-7f3a")
    assert first.status_code == 200, first.text
    issued = first.json()
    assert issued["status"] == "issued" and issued["replayed"] is False
    again = await claim(api.sf, key="order-page-7f3a")
    assert again.status_code == 200
    replay = again.json()
    assert replay["replayed"] is True
    assert replay["coupons"] == issued["coupons"] and replay["claim_id"] == issued["claim_id"]


async def test_same_key_from_another_device_is_key_reused(api: Api) -> None:
    assert (await claim(api.sf, key="k-1")).json()["status"] == "issued"
    response = await claim(api.sf, key="k-1", device="d2")
    assert_problem(response, 422, "key_reused", "Idempotency-Key")


async def test_second_claim_without_key_is_rejected_by_the_user_limit(api: Api) -> None:
    await issued_code(api.sf)
    response = await claim(api.sf)
    assert response.status_code == 200
    assert response.json() == {"status": "rejected", "reason": "user_limit", "replayed": False}


async def test_claim_request_errors(api: Api) -> None:
    no_campaign = await api.sf.post("/v1/claims", json=claim_body(campaign="nope"))
    assert_problem(no_campaign, 404, "unknown_campaign", "campaign")
    automatic = await api.sf.post("/v1/claims", json=claim_body(campaign="home_300"))
    assert_problem(automatic, 422, "not_claimable", "campaign")
    several = await api.sf.post("/v1/claims", json=claim_body(campaign="pick_one"))
    assert_problem(several, 422, "reward_required", "reward")
    unknown = await api.sf.post("/v1/claims", json=claim_body(campaign="pick_one", reward="zz"))
    assert_problem(unknown, 422, "unknown_reward", "reward")
    no_user = await api.sf.post("/v1/claims", json={"campaign": "coupon_centre"})
    assert_problem(no_user, 422, "invalid_request", "user.id")
    bad_ip = await api.sf.post("/v1/claims", json=claim_body(ip="300.1.1.1"))
    assert_problem(bad_ip, 422, "invalid_request", "ip")
    in_body = await api.sf.post("/v1/claims", json=claim_body(key="k"))
    assert_problem(in_body, 422, "invalid_request", "key")
    too_long = await claim(api.sf, key="k" * 201)
    assert_problem(too_long, 422, "invalid_request", "Idempotency-Key")


async def test_a_lottery_free_claim_picks_the_named_reward(api: Api) -> None:
    response = await claim(api.sf, campaign="pick_one", reward="b8")
    body = response.json()
    assert body["status"] == "issued" and body["reward"] == "b8"


async def test_invalid_context_names_the_field(api: Api) -> None:
    cart = {"items": [{"sku": "A", "price": 19.9, "qty": 1}]}
    response = await api.sf.post("/v1/evaluate", json={"context": {"cart": cart}})
    assert_problem(response, 422, "invalid_request", "cart.items[0].price")
    response = await api.sf.post("/v1/evaluate", json={"context": {"cart": {"currency": "JPY"}}})
    assert_problem(response, 422, "invalid_request", "cart.currency")


async def test_redeem_replay_and_revert(api: Api) -> None:
    code = await issued_code(api.sf)
    body = {"code": code, "user": "u1", "order": "o-1", "cart": POT_CART}
    redeemed = await api.sf.post("/v1/redemptions", json=body)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json() == {
        "status": "redeemed",
        "code": code,
        "amount": "10.00",
        "replayed": False,
    }
    replay = await api.sf.post("/v1/redemptions", json=body)
    assert replay.json()["replayed"] is True
    other_order = await api.sf.post("/v1/redemptions", json={**body, "order": "o-2"})
    assert other_order.json() == {
        "status": "rejected",
        "reason": "already_redeemed",
        "replayed": False,
    }
    reverted = await api.sf.post(f"/v1/coupons/{code}/revert")
    assert reverted.status_code == 200
    assert reverted.json()["status"] == "reverted"
    again = await api.sf.post(f"/v1/coupons/{code}/revert")
    assert again.json() == {"status": "rejected", "reason": "not_redeemed"}


async def test_redeem_rejections(api: Api) -> None:
    code = await issued_code(api.sf)
    not_owner = await api.sf.post(
        "/v1/redemptions", json={"code": code, "user": "u2", "cart": POT_CART}
    )
    assert not_owner.json()["reason"] == "not_owner"
    small = {"items": [{"sku": "X", "price": "20.00", "qty": 1}]}
    below = await api.sf.post("/v1/redemptions", json={"code": code, "user": "u1", "cart": small})
    assert below.json()["reason"] == "below_min_spend"
    unknown = await api.sf.post(
        "/v1/redemptions", json={"code": "NOPE", "user": "u1", "cart": POT_CART}
    )
    assert unknown.json() == {"status": "rejected", "reason": "unknown_code", "replayed": False}
    unknown_revert = await api.sf.post("/v1/coupons/NOPE/revert")
    assert unknown_revert.json() == {"status": "rejected", "reason": "unknown_code"}
    no_user = await api.sf.post("/v1/redemptions", json={"code": code, "cart": POT_CART})
    assert_problem(no_user, 422, "invalid_request", "user")


async def test_malformed_json_is_400(api: Api) -> None:
    for path in ("/v1/evaluate", "/v1/claims", "/v1/redemptions"):
        response = await api.sf.post(
            path, content=b'{"context": ', headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "malformed_json")
    not_object = await api.sf.post("/v1/evaluate", json=[1, 2])
    assert_problem(not_object, 422, "invalid_request", "body")


async def test_body_over_256_kib_is_413(api: Api) -> None:
    big = b'{"context": {"channel": "' + b"x" * (256 * 1024) + b'"}}'
    response = await api.sf.post(
        "/v1/evaluate", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(300):
            yield b"x" * 1024

    streamed = await api.sf.post("/v1/evaluate", content=chunks())
    assert_problem(streamed, 413, "payload_too_large")
    upload = await api.op.post("/v1/rulesets", content=big, headers={"content-type": "text/plain"})
    assert_problem(upload, 413, "payload_too_large")


async def test_unknown_route_404_and_wrong_method_405(api: Api) -> None:
    assert_problem(await api.sf.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(await api.sf.post("/v1/evaluate/"), 404, "not_found")
    wrong = await api.sf.get("/v1/claims")
    assert_problem(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"
    assert_problem(await api.op.delete("/v1/campaigns"), 405, "method_not_allowed")


async def test_every_answer_names_its_worker(api: Api) -> None:
    for response in (await api.sf.post("/v1/evaluate", json=EVALUATE), await api.anon.get("/nope")):
        assert response.headers["x-promo-worker"].isdigit()
