"""The invariant checker can fail: claims written straight into a real Redis, in the real
key layout, past a stock, a limit or a budget, and acknowledged claims missing from the
log, are reported; a store filled through the Engine passes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis

from dsl.compiler import compile_text
from dsl.localtime import parse_instant
from dsl.model import CompiledRuleset
from engine.clock import FixedClock
from engine.codes import new_code, route_tag
from engine.engine import Engine
from engine.ids import new_claim_id
from engine.store.keys import encode_entry, pairs
from engine.store.open import open_store
from loadtests.invariants import InvariantReport, check
from loadtests.records import Recorder
from tests.redis_server import RedisProcess

pytestmark = pytest.mark.redis

NOW = parse_instant("2026-11-11T20:00:05+08:00")
DAY = "day:2026-11-11"
RULES = """
ruleset "lt-test"
timezone "Asia/Shanghai"
currency CNY
campaign drop "Flash drop" {
    window 2026-11-11 20:00 .. 2026-11-11 23:59:59
    coupon c100 { value 100 off  min spend 299  stock 3 per day }
    coupon c500 { value 500 off  min spend 999  stock 100 per day }
    budget 1500 per day
    limit per user 1
    limit per device 2 per day
    limit per ip 5 per 1m
}
"""
RULESET: CompiledRuleset = compile_text(RULES)[0]
TAG = route_tag("drop")


def ip_of(user: str) -> str:
    return f"203.0.113.{sum(map(ord, user)) % 250 + 1}"


class Fixture:
    """A prefix of the shared Redis, an engine on it, the clients' records, and raw
    writes in the real key layout (`{prefix}{tag}:ruleset:campaign:key`)."""

    def __init__(self, server: RedisProcess, records: Path) -> None:
        self.url = server.url
        self.prefix = f"lt:{uuid.uuid4().hex[:10]}:"
        self.store = open_store(self.url, prefix=self.prefix, timeout=5.0)
        self.engine = Engine(self.store, FixedClock(NOW))
        self.records = records
        self.recorder = Recorder(records)
        self.redis = redis.Redis.from_url(self.url, decode_responses=True)
        self.base = f"{self.prefix}{{{TAG}}}:lt-test:drop:"

    async def claim(self, reward: str, user: str, *, ack: bool = True) -> dict[str, Any]:
        """A claim through the engine with a key, recorded as a client would."""
        body = {"campaign": "drop", "reward": reward, "user": user, "device": f"d-{user}",
                "ip": ip_of(user)}  # fmt: skip
        key = f"k-{user}-{reward}"
        self.recorder.sent(body, key)
        result = await self.engine.claim({**body, "key": key})
        if ack and result["status"] == "issued":
            self.recorder.acknowledged(body, key, result)
        return result

    def forge(self, reward: str, face: int, user: str, *, key: str = "") -> str:
        """One issued claim written straight into Redis, as claim.lua would: its log entry
        and every counter it moves, in the real key layout."""
        claim_id = new_claim_id(NOW)
        device, ip = f"d-{user}", ip_of(user)
        entry = {
            "type": "claim", "claim_id": claim_id, "campaign": "drop", "ruleset": "lt-test",
            "user": user, "device": device, "ip": ip, "key": key, "time": NOW,
            "reward": reward, "codes": [new_code(TAG)], "face_value": face,
        }  # fmt: skip
        self.redis.xadd(f"{self.prefix}{{{TAG}}}:log", pairs(encode_entry(entry)))  # type: ignore[arg-type]
        minute = (NOW + 8 * 3600) // 60
        for key_part, amount in (
            (f"l:*:user:all:{user}", 1), (f"l:*:device:{DAY}:{device}", 1),
            (f"l:*:ip:60s:60s-{minute}:{ip}", 1), (f"s:{reward}:{DAY}", 1),
            (f"b:*:{DAY}", face), (f"n:{reward}", 1),
        ):  # fmt: skip
            self.redis.incrby(self.base + key_part, amount)
        return claim_id

    def check(self) -> InvariantReport:
        self.recorder.flush()
        return check(self.url, prefix=self.prefix, rulesets=[RULESET], records=self.records)


@pytest.fixture
async def lt(redis_server: RedisProcess, tmp_path: Path) -> AsyncIterator[Fixture]:
    fixture = Fixture(redis_server, tmp_path / "records")
    await fixture.engine.load(RULESET)
    yield fixture
    fixture.recorder.close()
    await fixture.store.drop()
    await fixture.store.close()
    fixture.redis.close()


def kinds(report: InvariantReport) -> list[str]:
    return sorted(v.kind for v in report.violations)


async def test_a_store_filled_through_the_engine_passes(lt: Fixture) -> None:
    for user in ("u1", "u2", "u3"):
        assert (await lt.claim("c100", user))["status"] == "issued"
    assert (await lt.claim("c100", "u4"))["reason"] == "out_of_stock"
    assert (await lt.claim("c500", "u5"))["status"] == "issued"
    # A client that timed out: sent with its key, never acknowledged, in the log: fine.
    assert (await lt.claim("c500", "u6", ack=False))["status"] == "issued"
    report = lt.check()
    assert report.ok, report.violations
    assert report.claims_logged["drop"] == 5
    assert (report.acknowledged, report.sent) == (4, 6)
    stock = {(r.reward, r.period): (r.logged, r.counter, r.limit) for r in report.quotas}
    assert stock[("c100", "day:2026-11-11")] == (3, 3, 3)
    assert stock[("*", "day:2026-11-11")] == (130000, 130000, 150000)


async def test_one_claim_too_many_is_an_oversell(lt: Fixture) -> None:
    for user in ("u1", "u2", "u3"):
        await lt.claim("c100", user)
    lt.forge("c100", 10000, "u9")
    report = lt.check()
    assert "oversold" in kinds(report)
    oversold = next(v for v in report.violations if v.kind == "oversold")
    assert "s:c100:day:2026-11-11" in oversold.detail
    assert "the log has 4, the counter 4, at most 3" in oversold.detail
    # The forged entry also came from no client.
    assert kinds(report) == ["oversold", "unrequested_claim"]


async def test_a_user_over_the_limit_is_reported(lt: Fixture) -> None:
    await lt.claim("c100", "u1")
    claim_id = lt.forge("c500", 50000, "u1", key="k-u1-c100")  # a key the client did send
    report = lt.check()
    assert kinds(report) == ["double_issue", "limit_exceeded"], report.violations
    limit = next(v for v in report.violations if v.kind == "limit_exceeded")
    assert "user limit 1 in total" in limit.detail and "l:*:user:all:u1" in limit.detail
    assert claim_id  # the forged claim is matched by its key, not reported as unrequested


async def test_a_budget_overrun_is_reported(lt: Fixture) -> None:
    for user in ("u1", "u2", "u3"):
        assert (await lt.claim("c500", user))["status"] == "issued"
    assert (await lt.claim("c500", "u4"))["reason"] == "budget_exhausted"
    lt.forge("c500", 50000, "u5", key="k-u5-c500")
    lt.recorder.sent({"campaign": "drop", "user": "u5"}, "k-u5-c500")
    report = lt.check()
    assert kinds(report) == ["budget_exceeded"], report.violations
    assert "the log has 200000, the counter 200000, at most 150000" in report.violations[0].detail


async def test_an_acknowledged_claim_missing_from_the_log_is_reported(lt: Fixture) -> None:
    await lt.claim("c100", "u1")
    body = {"campaign": "drop", "reward": "c100", "user": "u2"}
    lt.recorder.sent(body, "k-lost")
    lost_id = new_claim_id(NOW)
    lost = {"status": "issued", "claim_id": lost_id, "coupons": [{"code": "X"}]}
    lt.recorder.acknowledged(body, "k-lost", lost)
    report = lt.check()
    assert kinds(report) == ["missing_claim"]
    assert lost_id in report.violations[0].detail


async def test_a_counter_moved_without_a_claim_is_reported(lt: Fixture) -> None:
    for user in ("u1", "u2", "u3"):
        await lt.claim("c100", user)
    lt.redis.incrby(lt.base + f"s:c100:{DAY}", 1)
    report = lt.check()
    assert kinds(report) == ["counter_mismatch", "oversold"]


async def test_a_keyless_claim_needs_an_unanswered_request(lt: Fixture) -> None:
    lt.forge("c100", 10000, "u7")
    assert kinds(lt.check()) == ["unrequested_claim"]
    # Once a client says it sent that claim without a key and got no answer, it is fine.
    body = {"campaign": "drop", "reward": "c100", "user": "u7", "device": "d-u7",
            "ip": ip_of("u7")}  # fmt: skip
    lt.recorder.sent(body, None)
    assert lt.check().ok


async def test_server_errors_seen_by_clients_are_violations(lt: Fixture) -> None:
    lt.recorder.server_error("claim lt_flash", 503)
    report = lt.check()
    assert kinds(report) == ["server_error"]
    assert report.server_errors == {"claim lt_flash 503": 1}
