"""`promo serve`: check the rule files, prepare the store, print the banner, run uvicorn.

One worker runs in this process with the app object. Several workers (`--workers N`,
Redis only) are uvicorn processes started from the factory `api.app:create_app_from_env`
with PROMO_* variables; this process writes the rule files to the store once before they
start, and with `--watch` keeps publishing changed files from a thread. Every refusal is
a `ServeError` whose message says why and what to do.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.auth import KeyConfigError, Keys
from api.clockmode import ClockModeError, claim_clock_mode
from api.rulefiles import FileWatcher, compile_dir
from api.settings import Settings, parse_instant, shown_url
from api.versions import compile_source, seed, version_file
from dsl.errors import RuleError
from dsl.model import CompiledRuleset
from dsl.sources import SourceError
from engine.clock import SystemClock
from engine.store import CounterStore, StoreUnavailable
from engine.store.open import open_store

log = logging.getLogger("promo.serve")


class ServeError(Exception):
    """`promo serve` cannot start; `code` is the exit status (1: rule errors, 2: usage)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Options:
    rules_dir: Path
    store: str = "memory"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    watch: bool = False
    rehearse: str | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_options(options: Options, keys_text: str) -> Keys:
    if options.workers < 1:
        raise ServeError("--workers must be at least 1")
    if options.workers > 1 and options.store == "memory":
        raise ServeError(
            f"--workers {options.workers} needs a Redis store (--store redis://HOST:PORT/DB): "
            "the memory store lives inside one process, so workers would not share "
            "quotas, coupons, versions, lists or pauses"
        )
    try:
        keys = Keys.parse(keys_text)
    except KeyConfigError as exc:
        raise ServeError(str(exc)) from None
    if keys.open and not is_loopback(options.host):
        raise ServeError(
            f"refusing to serve on {options.host} without API keys: anyone who can reach it "
            "could claim coupons and change rules. Set PROMO_API_KEYS="
            '"storefront:KEY,operator:KEY2" (keys of 16+ characters), or serve on 127.0.0.1'
        )
    return keys


def run(options: Options) -> None:
    """Serve until interrupted; raises ServeError when it cannot start."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    keys = check_options(options, os.environ.get("PROMO_API_KEYS", ""))
    rehearse = None
    if options.rehearse is not None:
        try:
            rehearse = parse_instant(options.rehearse)
        except ValueError as exc:
            raise ServeError(f"--rehearse: {exc}") from None
    try:
        files = compile_dir(options.rules_dir)
    except SourceError as exc:
        raise ServeError(str(exc)) from None
    except RuleError as exc:
        lines = "\n".join(d.format() for d in exc.errors)
        message = f"{options.rules_dir} has errors; nothing is served:\n{lines}"
        raise ServeError(message, 1) from None
    settings = Settings(
        rules_dir=options.rules_dir,
        store_url=options.store,
        api_keys=os.environ.get("PROMO_API_KEYS", ""),
        rehearse=rehearse,
        rehearse_origin=time.time() if rehearse is not None else None,
        seed=False,  # done here, once, before any worker starts
        freeze_heap=True,
    )
    store = open_store(options.store, prefix=settings.prefix, timeout=1.0)
    served = asyncio.run(_prepare(store, settings, files))
    print(banner(options, keys, served, rehearse), flush=True)
    if options.store == "memory":
        settings = replace(settings, store=store)  # the one process keeps this store
    if options.watch:
        _watch_in_thread(options, store if options.store == "memory" else None, settings)
    _uvicorn(options, settings)


async def _prepare(
    store: CounterStore, settings: Settings, files: list[CompiledRuleset]
) -> list[tuple[str, int, list[str]]]:
    """Ping, check the clock mode, store the files as versions; returns what will be
    served: (ruleset, version, campaign ids)."""
    where = shown_url(settings.store_url)
    try:
        await store.ping()
        await claim_clock_mode(store, settings.rehearse is not None, where)
        now = settings.make_clock().now()
        for note in await seed(store, files, now):
            log.warning("%s", note)
        active = [v for v in await store.versions() if v.active]
    except StoreUnavailable as exc:
        raise ServeError(f"cannot reach the store {where}: {exc}") from None
    except ClockModeError as exc:
        raise ServeError(str(exc)) from None
    finally:
        if settings.store_url != "memory":
            await store.close()
    served = []
    for version in sorted(active, key=lambda v: v.ruleset):
        try:
            file = version_file(version.ruleset, version.number)
            compiled, _ = await compile_source(version.source, file)
        except RuleError:
            continue  # the workers log it
        served.append((version.ruleset, version.number, [c.id for c in compiled.campaigns]))
    return served


_TRY = (
    '{"context": {"cart": {"items": '
    '[{"sku": "POT-1", "category": "kitchen", "price": "329.00", "qty": 1}]}}, "explain": true}'
)


def banner(
    options: Options, keys: Keys, served: list[tuple[str, int, list[str]]], rehearse: int | None
) -> str:
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::") else options.host
    base = f"http://{f'[{host}]' if ':' in host else host}:{options.port}"
    workers = f"{options.workers} worker" + ("s" if options.workers > 1 else "")
    lines = [f"promo-engine on {base} ({workers}, store {shown_url(options.store)})"]
    campaigns = sum(len(ids) for _, _, ids in served)
    lines.append(f"  {len(served)} rulesets, {campaigns} campaigns:")
    lines += [f"    {ruleset} v{number}: {', '.join(ids)}" for ruleset, number, ids in served]
    lines.append(f"  docs: {base}/docs")
    auth = "" if keys.open else ' -H "authorization: Bearer $STOREFRONT_KEY"'
    lines.append(
        f"  try:  curl -s {base}/v1/evaluate{auth} -H 'content-type: application/json' -d '{_TRY}'"
    )
    if keys.open:
        lines.append("  warning: no API keys (PROMO_API_KEYS): open local mode, loopback only")
    if rehearse is not None:
        lines.append(f"  rehearsal: the engine clock starts at {options.rehearse}")
    if options.watch:
        lines.append(f"  watching {options.rules_dir} for changes")
    return "\n".join(lines)


def _watch_in_thread(options: Options, memory: CounterStore | None, settings: Settings) -> None:
    """Publish changed rule files from a thread with its own event loop: the workers'
    version polls load them (a memory store is shared in-process, it is thread-safe)."""
    clock = settings.make_clock() if settings.rehearse is not None else SystemClock()

    async def watch() -> None:
        store = memory or open_store(options.store, prefix=settings.prefix, timeout=1.0)
        await FileWatcher(options.rules_dir, store, clock.now).run()

    threading.Thread(target=asyncio.run, args=(watch(),), name="promo-watch", daemon=True).start()


class _CoalescedWrites:
    """A transport whose writes of one event-loop iteration leave in one `write`."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()  # what was written goes out before the connection closes
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a response's status line and headers and its
    body sent in one system call: uvicorn writes them separately, and at 64 keep-alive
    connections those two sends were 15% of the worker's time (py-spy, POST /v1/claims)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        coalesced = _CoalescedWrites(transport)  # type: ignore[arg-type]
        super().connection_made(coalesced)  # type: ignore[arg-type]


def _uvicorn(options: Options, settings: Settings) -> None:
    import uvicorn

    common = {
        "host": options.host, "port": options.port, "loop": "uvloop",
        "http": CoalescingHttpTools, "access_log": False, "log_level": "info",
        "server_header": False,
        # Nothing here reads the client address or scheme; X-Forwarded-* parsing would be
        # per-request work for nothing.
        "proxy_headers": False,
    }  # fmt: skip
    if options.workers == 1:
        from api.app import create_app

        uvicorn.Server(uvicorn.Config(create_app(settings), **common)).run()  # type: ignore[arg-type]
        return
    os.environ.update(settings.to_env())
    with tempfile.TemporaryDirectory(prefix="promo-metrics-") as metrics_dir:
        # Each worker writes its samples here; /metrics adds them up (api/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        factory = "api.app:create_app_from_env"
        uvicorn.run(factory, factory=True, workers=options.workers, **common)  # type: ignore[arg-type]
