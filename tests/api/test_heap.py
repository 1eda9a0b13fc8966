"""A serving process (`promo serve`) freezes what startup made and collects its youngest
generation less often (api/app.py `freeze_heap`); tests and embedders do not."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from api.settings import Settings
from engine.store.open import open_store
from tests.api.harness import running
from tests.api.rules import write_rules


@pytest.mark.parametrize("freeze", [True, False])
async def test_a_serving_process_freezes_its_startup_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, freeze: bool
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: calls.append(f"threshold {t[0]}"))
    store = open_store("memory")
    async with running(store, write_rules(tmp_path / "rules"), kind="memory", freeze_heap=freeze):
        assert calls == (["freeze", "threshold 10000"] if freeze else [])
    assert Settings.from_env(Settings(freeze_heap=freeze).to_env()).freeze_heap is freeze
