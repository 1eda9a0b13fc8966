"""The rule files `promo serve` starts with, and `--watch`.

At startup every `.promo` file of RULES_DIR must compile, and the files must load together
(no campaign id in two files): otherwise `promo serve` prints the diagnostics and does
not start. With `--watch`, a changed file is recompiled and, if it compiles, published as
the active version through the store (api/versions.py), which every worker loads within
a second; a file with errors is not loaded, the old version keeps serving, and its
diagnostics are logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from api.versions import publish
from dsl.compiler import compile_text
from dsl.errors import Diagnostic, RuleError
from dsl.model import CompiledRuleset
from dsl.sources import SourceError, find_sources, read_source
from engine.registry import Registry
from engine.store import CounterStore, StoreUnavailable

log = logging.getLogger("promo.watch")
WATCH_INTERVAL = 0.5


def compile_dir(rules_dir: Path) -> list[CompiledRuleset]:
    """Every file of `rules_dir`, compiled and checked together. Raises RuleError with
    every error of every file, or SourceError."""
    compiled: list[CompiledRuleset] = []
    problems: list[Diagnostic] = []
    registry = Registry()
    for path in find_sources([rules_dir]):
        source = read_source(path)
        try:
            ruleset, _ = compile_text(source.text, str(path))
            registry.install(ruleset)  # raises on a campaign id of an earlier file
        except RuleError as exc:
            problems.extend(exc.errors)
            continue
        compiled.append(ruleset)
    if problems:
        raise RuleError(problems)
    return compiled


class FileWatcher:
    """Polls the files' modification times (no inotify needed, works on any mount)."""

    def __init__(
        self,
        rules_dir: Path,
        store: CounterStore,
        now: Callable[[], int],
        interval: float = WATCH_INTERVAL,
    ) -> None:
        self.rules_dir = rules_dir
        self.store = store
        self.now = now
        self.interval = interval
        self._seen = self._stamps()

    def _stamps(self) -> dict[Path, tuple[int, int]]:
        try:
            paths = find_sources([self.rules_dir])
        except SourceError:
            return {}
        stamps: dict[Path, tuple[int, int]] = {}
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            stamps[path] = (stat.st_mtime_ns, stat.st_size)
        return stamps

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        stamps = self._stamps()
        changed = [p for p, stamp in stamps.items() if self._seen.get(p) != stamp]
        for path in changed:
            if await self._reload(path):
                self._seen[path] = stamps[path]
            # On a store failure the stamp stays old, so the next poll tries again.
        for path in set(self._seen) - set(stamps):
            log.warning("%s was removed; its ruleset keeps serving", path)
            del self._seen[path]

    async def _reload(self, path: Path) -> bool:
        """True when the file is dealt with (published, or refused for its errors)."""
        try:
            text = read_source(path).text
            compiled, _ = await asyncio.to_thread(compile_text, text, str(path))
        except SourceError as exc:
            log.error("%s", exc)
            return True
        except RuleError as exc:
            lines = "\n".join(d.format() for d in exc.errors)
            log.error("%s not loaded, the previous version keeps serving:\n%s", path, lines)
            return True
        try:
            number = await publish(self.store, compiled, self.now())
        except StoreUnavailable:
            log.warning("%s changed but the store is unavailable; will retry", path)
            return False
        log.info("%s changed: %s v%d is active", path, compiled.id, number)
        return True
