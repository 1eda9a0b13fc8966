"""API keys: every endpoint with no key, a storefront key and an operator key; the open
local mode; the parsing of PROMO_API_KEYS. A key never appears in an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import KeyConfigError, Keys
from engine.store.open import open_store
from tests.api.harness import OPERATOR, STOREFRONT, STOREFRONT_KEY, Api, running
from tests.api.helpers import EVALUATE, POT_CART, assert_problem, claim_body
from tests.api.rules import write_rules

# (method, path, body, role): every endpoint; health probes and the docs are open.
ENDPOINTS: list[tuple[str, str, Any, str]] = [
    ("POST", "/v1/evaluate", EVALUATE, "storefront"),
    ("POST", "/v1/claims", claim_body(), "storefront"),
    ("POST", "/v1/redemptions", {"code": "NOPE", "user": "u1", "cart": POT_CART}, "storefront"),
    ("POST", "/v1/coupons/NOPE/revert", None, "storefront"),
    ("GET", "/v1/campaigns", None, "operator"),
    ("GET", "/v1/campaigns/coupon_centre", None, "operator"),
    ("POST", "/v1/campaigns/coupon_centre/pause", None, "operator"),
    ("POST", "/v1/campaigns/coupon_centre/resume", None, "operator"),
    ("PUT", "/v1/lists/blocked_users", {"values": ["u9"]}, "operator"),
    ("POST", "/v1/lists/blocked_users/members", {"values": ["u8"]}, "operator"),
    ("DELETE", "/v1/lists/blocked_users/members/u8", None, "operator"),
    ("GET", "/v1/lists/blocked_users", None, "operator"),
    ("POST", "/v1/rulesets", "not a ruleset", "operator"),
    ("POST", "/v1/rulesets/shop/versions/1/activate", None, "operator"),
    ("GET", "/v1/rulesets/shop/versions", None, "operator"),
    ("GET", "/v1/rulesets", None, "operator"),
    ("GET", "/metrics", None, "operator"),
    ("GET", "/healthz", None, "open"),
    ("GET", "/readyz", None, "open"),
    ("GET", "/openapi.json", None, "open"),
]
CALLERS = {"none": {}, "storefront": STOREFRONT, "operator": OPERATOR}


async def send(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    if isinstance(body, str):
        return await client.request(
            method, path, content=body, headers={**headers, "content-type": "text/plain"}
        )
    return await client.request(method, path, json=body, headers=headers)


def expected(role: str, caller: str) -> str:
    if role == "open" or caller == "operator" or (role == "storefront" and caller == "storefront"):
        return "allowed"
    return "401" if caller == "none" else "403"


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_auth_matrix(api: Api, caller: str) -> None:
    """Each endpoint × no key / storefront key / operator key."""
    for method, path, body, role in ENDPOINTS:
        response = await send(api.anon, method, path, body, CALLERS[caller])
        want = expected(role, caller)
        where = f"{method} {path} with {caller} key"
        if want == "401":
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer"), where
        elif want == "403":
            assert_problem(response, 403, "forbidden")
        else:
            assert response.status_code not in (401, 403), f"{where}: {response.text}"
            assert response.status_code < 500, f"{where}: {response.text}"


async def test_a_wrong_key_is_401_and_never_echoed(api: Api) -> None:
    guess = "sf-key-0123456789abcdeX"
    response = await api.anon.post(
        "/v1/evaluate", json=EVALUATE, headers={"Authorization": f"Bearer {guess}"}
    )
    assert_problem(response, 401, "unauthorized")
    assert guess not in response.text and STOREFRONT_KEY not in response.text
    basic = await api.anon.post(
        "/v1/evaluate", json=EVALUATE, headers={"Authorization": "Basic abc"}
    )
    assert_problem(basic, 401, "unauthorized")


async def test_open_local_mode_lets_everyone_in(tmp_path: Path) -> None:
    store = open_store("memory")
    async with running(store, write_rules(tmp_path / "rules"), kind="memory", keys="") as api:
        assert (await api.anon.get("/v1/campaigns")).status_code == 200
        assert (await api.anon.post("/v1/evaluate", json=EVALUATE)).status_code == 200


def test_keys_parse_roles_and_refuse_bad_entries() -> None:
    keys = Keys.parse(" storefront:aaaaaaaaaaaaaaaa , operator:bbbbbbbbbbbbbbbb,")
    assert keys.role_of(b"Bearer aaaaaaaaaaaaaaaa") == "storefront"
    assert keys.role_of(b"bearer bbbbbbbbbbbbbbbb") == "operator"
    assert keys.role_of(b"Bearer cccccccccccccccc") is None
    assert keys.role_of(None) is None
    assert Keys.parse("").open
    for bad in ("admin:aaaaaaaaaaaaaaaa", "storefront", "operator:short"):
        with pytest.raises(KeyConfigError) as info:
            Keys.parse(bad)
        assert "aaaaaaaaaaaaaaaa" not in str(info.value) and "short" not in str(info.value)


def test_a_key_in_both_roles_is_an_operator() -> None:
    keys = Keys.parse("storefront:samesamesamesame,operator:samesamesamesame")
    assert keys.role_of(b"Bearer samesamesamesame") == "operator"


def test_a_header_that_passed_is_remembered_and_no_other() -> None:
    keys = Keys.parse("storefront:aaaaaaaaaaaaaaaa,operator:samesamesamesame")
    for _ in range(2):  # the second time from the table of headers that passed
        assert keys.role_of(b"Bearer aaaaaaaaaaaaaaaa") == "storefront"
        assert keys.role_of(b"Bearer samesamesamesame") == "operator"
        assert keys.role_of(b"Bearer aaaaaaaaaaaaaaab") is None
        assert keys.role_of(b"Basic aaaaaaaaaaaaaaaa") is None
    assert sorted(keys._known) == [b"Bearer aaaaaaaaaaaaaaaa", b"Bearer samesamesamesame"]
    for n in range(3 * Keys._MAX_KNOWN):  # many spellings of a good key: the table stays small
        assert keys.role_of(b"Bearer aaaaaaaaaaaaaaaa" + b" " * n) == "storefront"
    assert len(keys._known) <= Keys._MAX_KNOWN
