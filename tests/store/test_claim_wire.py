"""The template encoding of planned claim steps (claim_wire) is the field-by-field one
(keys.claim_args) for every claimable reward and lottery of the examples, with and
without a key, device, IP or invitee, before and after the second changes."""

from __future__ import annotations

import itertools
from pathlib import Path
from random import Random
from typing import Any

import orjson
import pytest

from dsl.compiler import compile_text
from engine.claims import Plans, build_step, parse_claim
from engine.registry import Registry
from engine.store.claim_wire import planned_args
from engine.store.keys import PACKED, KeyLayout, claim_args

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = [
    *sorted((ROOT / "examples").glob("*.promo")),
    ROOT / "benchmarks" / "rules" / "claim_bench.promo",
    Path(__file__).parent / "rules" / "wire.promo",
]
NOW = 1_800_000_000  # 2027-01-15, inside every example's window
LAYOUT = KeyLayout("wire:")


def _claimable() -> list[tuple[Path, str, str | None]]:
    found = []
    for path in RULE_FILES:
        ruleset = compile_text(path.read_text(), path.name)[0]
        for campaign in ruleset.campaigns:
            if campaign.kind == "lottery":
                found.append((path, campaign.id, None))
            elif campaign.kind != "automatic":
                found += [(path, campaign.id, reward.id) for reward in campaign.rewards]
    return found


CLAIMABLE = _claimable()


def _registry(path: Path) -> Registry:
    registry = Registry()
    registry.install(compile_text(path.read_text(), path.name)[0])
    return registry


def _request(campaign: str, reward: str | None, variant: int) -> dict[str, Any]:
    user = f'user-{variant}:"odd"\u00e9'  # quotes, a colon and non-ASCII go through JSON
    request: dict[str, Any] = {"campaign": campaign, "user": user, "context": {}}
    if reward is not None:
        request["reward"] = reward
    if variant & 1:
        request["key"] = f"key-{variant}"
    if variant & 2:
        request["device"] = f"dev-{variant}"
    if variant & 4:
        request["ip"] = "203.0.113.9"
    if variant & 8:
        request["context"]["referral"] = {
            "event": "first_order", "inviter": user, "invitee": f"friend-{variant}",
        }  # fmt: skip
    return request


def _decoded(keys: list[str], argv: bytes) -> tuple[list[str], Any]:
    """The arguments with each log entry's packed JSON decoded (its key order is free)."""
    args = orjson.loads(argv)
    for outcome in args["outcomes"]:
        fields = outcome["f"]
        at = fields.index(PACKED) + 1
        fields[at] = orjson.loads(fields[at])
    return keys, args


@pytest.mark.parametrize(("path", "campaign", "reward"), CLAIMABLE,
                         ids=[f"{c}.{r or 'draw'}" for _, c, r in CLAIMABLE])  # fmt: skip
def test_planned_args_are_claim_args(path: Path, campaign: str, reward: str | None) -> None:
    registry, rng = _registry(path), Random(7)
    plans = Plans(registry)
    for variant, now in itertools.product(range(16), (NOW, NOW + 1, NOW + 86_400)):
        parsed = parse_claim(registry, _request(campaign, reward, variant), now)
        step = build_step(plans, parsed, None, now, rng)
        assert step.shape is not None
        fast = _decoded(*planned_args(LAYOUT, step))
        assert fast == _decoded(*claim_args(LAYOUT, step, now)), (variant, now)
        # and again from the cached template, with another claim of the same second
        step = build_step(plans, parsed, None, now, rng)
        assert _decoded(*planned_args(LAYOUT, step)) == _decoded(*claim_args(LAYOUT, step, now))


def test_a_template_serves_a_whole_second() -> None:
    path, campaign, reward = CLAIMABLE[0]
    registry = _registry(path)
    plans = Plans(registry)
    parsed = parse_claim(registry, _request(campaign, reward, 3), NOW)
    steps = [build_step(plans, parsed, None, NOW, None) for _ in range(3)]
    for step in steps:
        planned_args(LAYOUT, step)
    assert steps[0].shape is steps[2].shape
    assert len(steps[0].shape.encodings) == 1
