"""Rulesets as versions in the store (LANGUAGE.md 10.9), and which one this worker serves.

The store is the source of truth: uploading adds a version, activating marks one active,
and every worker polls `store.active_versions()` (every 0.25 s: a number per ruleset, no
source) and loads a newly activated version, so all workers of all hosts serve it within
a second. Rollback is activating an earlier version. A version that fails to load here (a
campaign id that another loaded ruleset declares) is logged and retried when what this
worker serves changes.

Startup (`seed`): a rule file whose exact text is not yet a version becomes a new active
version; a file whose text is a version already leaves the store's active choice alone,
so restarting one host never undoes an operator's upload or rollback.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import ApiError
from dsl.compiler import compile_text
from dsl.errors import Diagnostic, RuleError
from dsl.model import CompiledRuleset
from engine.engine import Engine
from engine.repeating import Repeating
from engine.store import CounterStore, Version

log = logging.getLogger("promo.versions")


def version_file(ruleset: str, number: int) -> str:
    """The file name diagnostics show for a stored version: `everyday@v3`."""
    return f"{ruleset}@v{number}"


async def compile_source(source: str, file: str) -> tuple[CompiledRuleset, list[Diagnostic]]:
    """Compile off the event loop: a large ruleset must not stall the hot routes."""
    return await asyncio.to_thread(compile_text, source, file)


@dataclass(frozen=True, slots=True)
class Uploaded:
    version: int
    created: bool
    compiled: CompiledRuleset
    warnings: list[Diagnostic]


class Versions:
    def __init__(self, engine: Engine, store: CounterStore, *, poll: float = 0.25) -> None:
        self.engine = engine
        self.store = store
        self.poll = poll
        self.served: dict[str, int] = {}  # ruleset id -> version number served here
        self._failed: dict[tuple[str, int], dict[str, int]] = {}
        self._lock = asyncio.Lock()
        self._poller = Repeating(self.sync, poll, "version poll")

    # --- operators ------------------------------------------------------------------------

    async def upload(self, source: str, file: str) -> Uploaded:
        """Compile and store a new version (not active). Raises RuleError, nothing stored."""
        compiled, warnings = await compile_source(source, file)
        self.engine.registry.plan(compiled)  # a campaign id of another loaded ruleset
        for version in await self.store.versions(compiled.id):
            if version.source == source:
                return Uploaded(version.number, False, compiled, warnings)
        number = await self.store.add_version(compiled.id, source, self.engine.clock.now())
        return Uploaded(number, True, compiled, warnings)

    async def activate(self, ruleset: str, number: int) -> int | None:
        """Make version `number` the active one everywhere; returns the one it replaces."""
        versions = await self.history(ruleset)
        version = next((v for v in versions if v.number == number), None)
        if version is None:
            raise ApiError("unknown_version", f"ruleset '{ruleset}' has no version {number}")
        previous = next((v.number for v in versions if v.active), None)
        async with self._lock:
            compiled, _ = await compile_source(version.source, version_file(ruleset, number))
            self.engine.registry.plan(compiled)
            await self.store.activate(ruleset, number)
            await self.engine.load(compiled)
            self.served[ruleset] = number
        log.info("activated %s v%d (was v%s)", ruleset, number, previous)
        return previous

    async def history(self, ruleset: str) -> list[Version]:
        versions = await self.store.versions(ruleset)
        if not versions:
            raise ApiError("unknown_ruleset", f"no ruleset '{ruleset}' in the store")
        return sorted(versions, key=lambda v: v.number)

    # --- every worker: serve what the store says is active ---------------------------------

    async def sync(self) -> None:
        """Load every active version that this worker does not serve yet. Only then are
        sources read: a year of uploads is not read four times a second by every worker."""
        for ruleset, number in (await self.store.active_versions()).items():
            if self.served.get(ruleset) != number:
                for version in await self.store.versions(ruleset):
                    if version.number == number:
                        await self._load(version)

    async def _load(self, version: Version) -> None:
        key = (version.ruleset, version.number)
        if self._failed.get(key) == self.served:
            return  # failed with the same rulesets loaded: it would fail again
        async with self._lock:
            if self.served.get(version.ruleset) == version.number:
                return
            try:
                file = version_file(*key)
                compiled, _ = await compile_source(version.source, file)
                await self.engine.load(compiled)
            except RuleError as exc:
                self._failed[key] = dict(self.served)
                lines = "\n".join(d.format() for d in exc.errors)
                log.error("cannot serve %s v%d; keeping the previous one:\n%s", *key, lines)
                return
            self.served[version.ruleset] = version.number
            self._failed.pop(key, None)
        log.info("serving %s v%d", *key)

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()


def diff(before: str, after: str, ruleset: str, old: int, new: int) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=version_file(ruleset, old) if old else "/dev/null",
        tofile=version_file(ruleset, new),
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# --- startup and --watch: rule files become versions --------------------------------------


async def seed(store: CounterStore, rulesets: Sequence[CompiledRuleset], now: int) -> list[str]:
    """Store the rule files' rulesets as versions (see the module docstring); returns a
    note for each file whose version the store does not serve."""
    notes: list[str] = []
    for compiled in rulesets:
        versions = await store.versions(compiled.id)
        same = next((v for v in versions if v.source == compiled.source), None)
        active = next((v for v in versions if v.active), None)
        if same is None:
            number = await store.add_version(compiled.id, compiled.source, now)
            await store.activate(compiled.id, number)
        elif active is None:
            await store.activate(compiled.id, same.number)
        elif active.number != same.number:
            notes.append(
                f"{compiled.id}: the store serves v{active.number}; {compiled.file} is "
                f"v{same.number} (POST /v1/rulesets/{compiled.id}/versions/{same.number}/activate)"
            )
    return notes


async def publish(store: CounterStore, compiled: CompiledRuleset, now: int) -> int:
    """Make `compiled` (a changed rule file) the active version: the existing version with
    the same text, or a new one. Workers pick it up within a second."""
    versions = await store.versions(compiled.id)
    same = next((v for v in versions if v.source == compiled.source), None)
    number = (
        same.number
        if same is not None
        else await store.add_version(compiled.id, compiled.source, now)
    )
    await store.activate(compiled.id, number)
    return number
