"""Rule files becoming versions (seed, publish), diffs, rule-dir compilation, and the
clock-mode record, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.clockmode import ClockModeError, claim_clock_mode
from api.rulefiles import compile_dir
from api.settings import parse_instant
from api.versions import diff, publish, seed
from dsl.compiler import compile_text
from dsl.errors import RuleError
from engine.store import CounterStore
from tests.api.harness import STORES, new_store
from tests.api.rules import EXTRA, SHOP, SHOP_V2, write_rules


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    store = new_store(request.param, request)
    yield store
    await store.drop()
    await store.close()


def active(versions: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {v.ruleset: v.number for v in versions if v.active}


async def test_seed_adds_new_texts_and_keeps_the_stores_choice(store: CounterStore) -> None:
    v1, _ = compile_text(SHOP, "rules/shop.promo")
    v2, _ = compile_text(SHOP_V2, "rules/shop.promo")
    assert await seed(store, [v1], 0) == []
    assert active(await store.versions()) == {"shop": 1}
    assert await seed(store, [v2], 0) == []  # a changed file: a new active version
    assert active(await store.versions()) == {"shop": 2}
    await store.activate("shop", 1)  # an operator rolls back...
    notes = await seed(store, [v2], 0)  # ...and a host restarts with the newer file
    assert active(await store.versions()) == {"shop": 1}
    assert notes == [
        "shop: the store serves v1; rules/shop.promo is v2 "
        "(POST /v1/rulesets/shop/versions/2/activate)"
    ]
    assert len(await store.versions("shop")) == 2


async def test_publish_activates_the_same_text_or_a_new_version(store: CounterStore) -> None:
    v1, _ = compile_text(SHOP, "shop.promo")
    v2, _ = compile_text(SHOP_V2, "shop.promo")
    assert await publish(store, v1, 0) == 1
    assert await publish(store, v2, 0) == 2
    assert await publish(store, v1, 0) == 1  # editing the file back is a rollback
    assert active(await store.versions()) == {"shop": 1}


async def test_the_clock_mode_is_the_first_writers(store: CounterStore) -> None:
    await claim_clock_mode(store, True, "the store")
    await claim_clock_mode(store, True, "the store")
    with pytest.raises(ClockModeError, match="holds data of a rehearsal"):
        await claim_clock_mode(store, False, "the store")
    await store.set_clock_mode("system")
    assert await store.clock_mode() == "rehearsal"


async def test_data_from_before_the_mode_was_recorded_is_real(store: CounterStore) -> None:
    await store.add_version("shop", SHOP, 0)
    with pytest.raises(ClockModeError, match="--rehearse refused"):
        await claim_clock_mode(store, True, "redis://x")
    await claim_clock_mode(store, False, "redis://x")
    assert await store.clock_mode() == "system"


def test_diff_between_versions() -> None:
    text = diff(SHOP, SHOP_V2, "shop", 1, 2)
    assert text.startswith("--- shop@v1\n+++ shop@v2\n")
    assert diff(SHOP, SHOP, "shop", 1, 2) == ""


def test_compile_dir_reports_every_file_and_duplicate_campaigns(tmp_path: Path) -> None:
    ok = write_rules(tmp_path / "ok", {"shop.promo": SHOP, "extra.promo": EXTRA})
    assert sorted(r.id for r in compile_dir(ok)) == ["extra", "shop"]
    clash = SHOP.replace('ruleset "shop"', 'ruleset "copy"')
    bad = write_rules(tmp_path / "bad", {"a.promo": SHOP, "b.promo": clash})
    with pytest.raises(RuleError) as info:
        compile_dir(bad)
    assert all("duplicate campaign" in d.message for d in info.value.errors)


def test_parse_instant() -> None:
    assert parse_instant("2026-11-11T09:59:50+08:00") == 1_794_362_390
    assert parse_instant("1794362390") == 1_794_362_390
    for bad in ("2026-11-11T09:59:50", "tomorrow"):
        with pytest.raises(ValueError, match="2026-11-11T09:59:50"):
            parse_instant(bad)
