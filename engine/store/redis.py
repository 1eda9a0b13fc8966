"""RedisStore: the counter store on Redis or Redis Cluster (redis.asyncio with hiredis).

Claim, redeem and revert are one Lua script call each (EVALSHA, reloaded on NOSCRIPT), so
one round trip; engine/store/keys.py says where data lives. Clients come from `open_store`
(engine/store/open.py) without retries: a step that timed out may have run, and running
it again could issue twice.

On a single Redis server the hot calls (the three scripts, counter reads) take a `Lane`:
one connection that every task of the event loop shares, commands written as they come
and replies (which Redis sends in order) read with hiredis straight into the waiting
futures. redis-py spends about 200 us of CPU per EVALSHA on this machine (pool checkout,
retry and observability wrappers, an asyncio timeout per read); the lane about 20. Other
calls, and Redis Cluster, go through redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from importlib import resources
from types import TracebackType
from typing import Any, cast

import hiredis
import orjson
from redis import exceptions as rx
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.commands.core import AsyncScript

from engine.store import (
    ClaimResult,
    ClaimStep,
    CouponRecord,
    RedeemResult,
    RedeemStep,
    RevertResult,
    RevertStep,
    Scope,
    StoreUnavailable,
    Version,
)
from engine.store.keys import (
    KeyLayout,
    claim_args,
    coupon_entry,
    coupon_record,
    decode_entry,
    encode_entry,
    pairs,
)

Client = Redis | RedisCluster

# Everything that means "the store cannot answer now": the client may retry with its key.
_UNAVAILABLE = (
    rx.ConnectionError, rx.TimeoutError, rx.ClusterError, rx.TryAgainError,
    rx.ReadOnlyError, rx.RedisClusterException, OSError,
)  # fmt: skip
_SCRIPTS = ("claim", "redeem", "revert", "version_add", "version_activate", "list_replace")


class _Boundary:
    """The one place where Redis client errors become StoreUnavailable."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, _UNAVAILABLE):
            raise unavailable(exc) from exc


def unavailable(exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}")


boundary = _Boundary()


# --- the lane: one shared connection for the hot calls ------------------------------------

_MAX_BUFFERED = 16 << 20  # bytes written but not sent: past this the server is not reading
# Error replies that mean "not now" (the retry with the key is safe), as redis-py maps them.
_NOT_NOW = {
    "LOADING": rx.BusyLoadingError, "READONLY": rx.ReadOnlyError,
    "MASTERDOWN": rx.ConnectionError, "TRYAGAIN": rx.TryAgainError,
}  # fmt: skip


def pack(*args: str | bytes | int) -> bytes:
    """A command in RESP, as redis-py's `pack_command` writes it.

    >>> pack("GET", "k")
    b'*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n'
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if type(arg) is bytes else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def pack_evalsha(sha: str, keys: Sequence[str], args: Sequence[str | bytes | int]) -> bytes:
    """`pack("EVALSHA", sha, len(keys), *keys, *args)`, with the keys written as one text
    and encoded once when they are ASCII (a claim has eight or so).

    >>> pack_evalsha("f00", ["k"], [b"a"]) == pack("EVALSHA", "f00", 1, "k", b"a")
    True
    """
    text = "".join([f"${len(k)}\r\n{k}\r\n" for k in keys])
    if not text.isascii():  # a length in characters is not one in bytes
        return pack("EVALSHA", sha, len(keys), *keys, *args)
    n = str(len(keys))
    head = f"*{3 + len(keys) + len(args)}\r\n$7\r\nEVALSHA\r\n${len(sha)}\r\n{sha}\r\n"
    parts = [f"{head}${len(n)}\r\n{n}\r\n{text}".encode()]
    for arg in args:
        data = arg if type(arg) is bytes else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _reply_error(reply: hiredis.ReplyError) -> Exception:
    """The redis-py exception of an error reply: "not now" ones as redis-py maps them."""
    message = str(reply)
    return _NOT_NOW.get(message.split(" ", 1)[0], rx.ResponseError)(message)


class _Wire(asyncio.Protocol):
    """One connection: futures wait in the order their commands were written, and each
    reply goes to the oldest. A future that timed out (or whose task was cancelled) stays
    in line, done, so that the reply meant for it is read and dropped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.transport: asyncio.Transport | None = None
        self.lost: Exception | None = None
        self._reader = hiredis.Reader(encoding="utf-8")
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._expired = 0  # how many of the oldest waiting futures already timed out
        self._timer: asyncio.TimerHandle | None = None
        self._out: list[bytes] = []  # commands of this loop iteration, not yet written

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        reply = reader.gets()
        while reply is not False:
            future, _ = waiting.popleft()
            if self._expired:
                self._expired -= 1
            if not future.done():
                future.set_result(reply)
            reply = reader.gets()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = rx.ConnectionError(f"Connection to {self.name} lost: {exc or 'closed'}")
        if self._timer is not None:
            self._timer.cancel()
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(self.lost)

    def send(self, command: bytes, timeout: float) -> asyncio.Future[Any]:
        """Write `command`; its reply comes in the future (or a TimeoutError after
        `timeout` seconds, after which the reply is dropped when it comes)."""
        transport = self.transport
        if self.lost is not None or transport is None:
            raise self.lost or rx.ConnectionError(f"not connected to {self.name}")
        if transport.get_write_buffer_size() > _MAX_BUFFERED:
            raise rx.TimeoutError(f"Timeout writing to {self.name}: it reads nothing")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((future, loop.time() + timeout))
        out = self._out
        out.append(command)
        if len(out) == 1:
            # Every command of this loop iteration goes out in one write at its end: one
            # send() system call for many claims instead of one each (a fifth of the
            # process's time at 64 concurrent claims).
            loop.call_soon(self._flush)
        if self._timer is None:
            self._timer = loop.call_later(timeout, self._expire)
        return future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self.transport is not None and self.lost is None:
            self.transport.write(b"".join(out))

    def _expire(self) -> None:
        """Fail the waiting futures past their deadline; one timer for the connection,
        set for the oldest deadline still to come (a timer per call costs more)."""
        self._timer = None
        waiting = self._waiting
        now = asyncio.get_running_loop().time()
        i = self._expired
        while i < len(waiting):
            future, deadline = waiting[i]
            if deadline > now:
                self._timer = asyncio.get_running_loop().call_at(deadline, self._expire)
                break
            if not future.done():
                future.set_exception(rx.TimeoutError(f"Timeout reading from {self.name}"))
            i += 1
        self._expired = i

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Lane:
    """The hot calls to one Redis server over one shared connection per event loop
    (see the module docstring). Connects on first use, and again after the connection
    is lost; scripts are loaded on NOSCRIPT."""

    def __init__(self, client: Redis) -> None:
        kwargs = client.connection_pool.connection_kwargs
        self._path: str | None = kwargs.get("path")
        self._host: str = kwargs.get("host", "localhost")
        self._port: int = int(kwargs.get("port", 6379))
        self._timeout: float = kwargs.get("socket_timeout") or 5.0
        self._connect_timeout: float = kwargs.get("socket_connect_timeout") or self._timeout
        self._hello = self._handshake(kwargs)
        self._name = self._path or f"{self._host}:{self._port}"
        self._wire: _Wire | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[_Wire] | None = None

    @staticmethod
    def _handshake(kwargs: Mapping[str, Any]) -> list[bytes]:
        """AUTH and SELECT as the client's URL asks, sent before anything else."""
        commands = []
        password, username = kwargs.get("password"), kwargs.get("username")
        if password is not None:
            auth = (username, password) if username is not None else (password,)
            commands.append(pack("AUTH", *auth))
        if int(kwargs.get("db") or 0):
            commands.append(pack("SELECT", int(kwargs["db"])))
        return commands

    @staticmethod
    def serves(client: Client) -> bool:
        """Whether a lane can carry `client`'s calls: one server, plain TCP or Unix socket."""
        if not isinstance(client, Redis):
            return False
        kind = client.connection_pool.connection_class
        return kind is Connection or kind is UnixDomainSocketConnection

    async def command(self, *args: str | bytes | int) -> Any:
        return await self._call(pack(*args))

    async def evalsha(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        command = pack_evalsha(script.sha, keys, args)
        # _call inlined: a claim makes one of these, and each coroutine level costs.
        wire = self._wire
        if wire is None or wire.lost is not None or self._loop is not asyncio.get_running_loop():
            wire = await self._connected()
        reply = await wire.send(command, self._timeout)
        if isinstance(reply, hiredis.ReplyError):
            if not str(reply).startswith("NOSCRIPT"):
                raise _reply_error(reply)
            # NOSCRIPT: nothing ran; load, then run
            await self.command("SCRIPT", "LOAD", cast(str | bytes, script.script))
            reply = await self._call(command)
        return reply

    async def _call(self, command: bytes) -> Any:
        wire = self._wire
        if wire is None or wire.lost is not None or self._loop is not asyncio.get_running_loop():
            wire = await self._connected()
        reply = await wire.send(command, self._timeout)
        if isinstance(reply, hiredis.ReplyError):
            raise _reply_error(reply)
        return reply

    async def _connected(self) -> _Wire:
        """The wire of this loop, connecting once for every task that asks meanwhile."""
        loop = asyncio.get_running_loop()
        if self._connecting is None or self._loop is not loop or self._connecting.done():
            self._loop = loop
            self._connecting = loop.create_future()
            task = loop.create_task(self._connect(self._connecting))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        return await asyncio.shield(self._connecting)

    async def _connect(self, done: asyncio.Future[_Wire]) -> None:
        loop = asyncio.get_running_loop()
        try:
            wire = _Wire(self._name)
            if self._path is not None:
                opening = loop.create_unix_connection(lambda: wire, self._path)
            else:
                opening = loop.create_connection(lambda: wire, self._host, self._port)
            await asyncio.wait_for(opening, self._connect_timeout)
            for hello in self._hello:
                reply = await wire.send(hello, self._timeout)
                if isinstance(reply, hiredis.ReplyError):
                    wire.close()
                    raise rx.AuthenticationError(str(reply))
        except (TimeoutError, OSError) as exc:
            error = rx.ConnectionError(f"Error connecting to {self._name}: {exc!r}")
            done.set_exception(error)
            return
        except Exception as exc:
            done.set_exception(exc)
            return
        old, self._wire = self._wire, wire
        if old is not None and old.lost is None and old is not wire:
            old.close()
        done.set_result(wire)

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
            self._wire = None


def load_scripts(client: Client) -> dict[str, AsyncScript]:
    """Every script of lua/, registered once on `client` (loaded on first use)."""
    lua = resources.files("engine.store") / "lua"
    return {n: client.register_script((lua / f"{n}.lua").read_text()) for n in _SCRIPTS}


class RedisStore:
    """The CounterStore on Redis. Build one with `open_store("redis://127.0.0.1:6379/0")`."""

    def __init__(self, client: Client, prefix: str = "promo:") -> None:
        # Any: replies are str (decode_responses=True), which redis-py's types cannot say.
        self._client: Any = client
        self._keys = KeyLayout(prefix)
        self._scripts = load_scripts(client)
        self._claim_script = self._scripts["claim"]
        self._lane = Lane(client) if isinstance(client, Redis) and Lane.serves(client) else None

    async def _script(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._scripts[name]
        if self._lane is not None:
            return await self._lane.evalsha(script, keys, args)
        return await script(keys=keys, args=args)

    # the hot path

    async def claim(self, step: ClaimStep, now: int) -> ClaimResult:
        if step.refusal is not None and step.key is None:
            return ClaimResult("rejected", step.refusal)  # no record could win over it
        keys, args = claim_args(self._keys, step, now)
        # `boundary` and `_script` written out: a claim makes one call, and each context
        # manager and coroutine level costs.
        try:
            if self._lane is not None:
                reply = await self._lane.evalsha(self._claim_script, keys, (args,))
            else:
                reply = await self._claim_script(keys=keys, args=(args,))
        except _UNAVAILABLE as exc:
            raise unavailable(exc) from exc
        status = reply[0]
        if status == "issued":
            index = int(reply[1]) - 1
            return ClaimResult("issued", result=step.outcomes[index].result, outcome=index)
        if status == "replayed":
            return ClaimResult("replayed", result=reply[1])
        if status == "rejected":
            return ClaimResult("rejected", reason=reply[1])
        return ClaimResult("code_taken" if status == "code_taken" else "key_reused")

    async def redeem(self, step: RedeemStep, now: int) -> RedeemResult:
        keys = [self._keys.coupon(step.tag, step.code), self._keys.log(step.tag)]
        fields = coupon_entry("redeem", step.code, step.log, now)
        args = {"user": step.user, "order": step.order, "now": now, "verdicts": step.verdicts,
                "f": encode_entry(fields, ("amount",))}  # fmt: skip
        with boundary:
            reply = await self._script("redeem", keys, (orjson.dumps(args),))
        status, reason, amount = reply[0], reply[1] or None, reply[2]
        coupon = coupon_record(pairs(reply[3:])) if len(reply) > 3 else None
        return RedeemResult(status, reason, int(amount) if amount else None, coupon)

    async def revert(self, step: RevertStep, now: int) -> RevertResult:
        keys = [self._keys.coupon(step.tag, step.code), self._keys.log(step.tag)]
        fields = coupon_entry("revert", step.code, step.log, now)
        args = {"f": encode_entry(fields, ("amount",))}
        with boundary:
            reply = await self._script("revert", keys, (orjson.dumps(args),))
        coupon = coupon_record(pairs(reply[2:])) if len(reply) > 2 else None
        return RevertResult(reply[0], reply[1] or None, coupon)

    # reads

    async def counters(self, scope: Scope, keys: Sequence[str]) -> list[int]:
        if not keys:
            return []
        names = [self._keys.counter(scope, k) for k in keys]
        with boundary:
            if self._lane is not None:
                values = await self._lane.command("MGET", *names)
            else:
                values = await self._client.mget(names)
        return [int(v) if v is not None else 0 for v in values]

    async def coupons(self, codes: Sequence[tuple[str, str]]) -> dict[str, CouponRecord]:
        # A cluster pipeline sends each node its own commands, grouped by slot.
        pipe = self._client.pipeline(transaction=False)
        for tag, code in codes:
            pipe.hgetall(self._keys.coupon(tag, code))
        with boundary:
            found: list[Mapping[str, str]] = await pipe.execute() if codes else []
        return {fields["code"]: coupon_record(fields) for fields in found if fields}

    async def pity(self, scope: Scope, key: str) -> int:
        return (await self.counters(scope, [key]))[0]

    # frozen terms (content-addressed: writing an id again writes the same text)

    async def put_terms(self, terms: Mapping[str, str]) -> None:
        if terms:
            with boundary:
                await self._client.hset(self._keys.meta("terms"), mapping=dict(terms))

    async def get_terms(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        with boundary:
            texts = await self._client.hmget(self._keys.meta("terms"), list(ids))
        return {i: text for i, text in zip(ids, texts, strict=True) if text is not None}

    # runtime lists and pause states: the change counter moves after the change, so a
    # reader that sees the new count also sees the change

    async def list_add(self, name: str, values: Sequence[str]) -> None:
        with boundary:
            if values:
                await self._client.sadd(self._keys.meta("list", name), *values)
            await self._list_changed(name)

    async def list_remove(self, name: str, values: Sequence[str]) -> None:
        with boundary:
            if values:
                await self._client.srem(self._keys.meta("list", name), *values)
            await self._list_changed(name)

    async def list_replace(self, name: str, values: Sequence[str]) -> None:
        with boundary:
            await self._scripts["list_replace"](keys=[self._keys.meta("list", name)], args=values)
            await self._list_changed(name)

    async def _list_changed(self, name: str) -> None:
        await self._client.sadd(self._keys.meta("lists"), name)
        await self._client.incr(self._keys.meta("lists", "n"))

    async def lists(self) -> tuple[int, dict[str, frozenset[str]]]:
        meta = self._keys.meta
        with boundary:
            count = await self._client.get(meta("lists", "n"))
            names = sorted(await self._client.smembers(meta("lists")))
            pipe = self._client.pipeline(transaction=False)
            for name in names:
                pipe.smembers(meta("list", name))
            sets = await pipe.execute() if names else []
        return int(count or 0), {n: frozenset(s) for n, s in zip(names, sets, strict=True)}

    async def set_paused(self, ruleset: str, campaign: str, paused: bool) -> None:
        key, member = self._keys.meta("paused"), f"{ruleset}:{campaign}"
        with boundary:
            await (self._client.sadd(key, member) if paused else self._client.srem(key, member))
            await self._client.incr(self._keys.meta("paused", "n"))

    async def paused(self) -> tuple[int, frozenset[tuple[str, str]]]:
        with boundary:
            count = await self._client.get(self._keys.meta("paused", "n"))
            members = await self._client.smembers(self._keys.meta("paused"))
        pairs_ = (member.split(":", 1) for member in members)
        return int(count or 0), frozenset((r, c) for r, c in pairs_)

    # ruleset versions

    async def add_version(self, ruleset: str, source: str, now: int) -> int:
        version = orjson.dumps({"source": source, "created_at": now})
        with boundary:
            await self._client.sadd(self._keys.meta("rulesets"), ruleset)
            keys = [self._keys.meta("versions", ruleset)]
            return int(await self._scripts["version_add"](keys=keys, args=[version]))

    async def activate(self, ruleset: str, number: int) -> None:
        keys = [self._keys.meta("versions", ruleset)]
        with boundary:
            done = await self._scripts["version_activate"](keys=keys, args=[str(number)])
        if not done:
            raise ValueError(f"ruleset {ruleset!r} has no version {number}")

    async def versions(self, ruleset: str | None = None) -> list[Version]:
        with boundary:
            if ruleset is not None:
                names = [ruleset]
            else:
                names = sorted(await self._client.smembers(self._keys.meta("rulesets")))
            pipe = self._client.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(self._keys.meta("versions", name))
            hashes = await pipe.execute() if names else []
        return [v for n, h in zip(names, hashes, strict=True) for v in _versions(n, h)]

    # the log and statistics

    async def log(self, scope: Scope, after: str = "0", limit: int = 1000) -> list[dict[str, Any]]:
        key, found = self._keys.log(scope.tag), list[dict[str, Any]]()
        while len(found) < limit:
            start = "-" if after == "0" else f"({after}"
            with boundary:
                batch = await self._client.xrange(key, min=start, max="+", count=limit)
            for entry_id, fields in batch:
                # A tag is shared by another campaign only by a hash collision (keys.py).
                if (
                    fields.get("campaign") == scope.campaign
                    and fields.get("ruleset") == scope.ruleset
                ):
                    found.append(decode_entry(entry_id, fields))
            if len(batch) < limit:
                break
            after = batch[-1][0]
        return found[:limit]

    async def add_stats(self, scope: Scope, counts: Mapping[str, int]) -> None:
        key = self._keys.meta("stats", scope.ruleset, scope.campaign)
        pipe = self._client.pipeline(transaction=False)
        for reason, count in counts.items():
            pipe.hincrby(key, reason, count)
        with boundary:
            if counts:
                await pipe.execute()

    async def stats(self, scope: Scope) -> dict[str, int]:
        with boundary:
            counts = await self._client.hgetall(
                self._keys.meta("stats", scope.ruleset, scope.campaign)
            )
        return {reason: int(count) for reason, count in counts.items()}

    async def clock_mode(self) -> str | None:
        with boundary:
            mode: str | None = await self._client.get(self._keys.meta("clock"))
        return mode

    async def set_clock_mode(self, mode: str) -> None:
        with boundary:
            await self._client.set(self._keys.meta("clock"), mode, nx=True)

    # housekeeping

    async def ping(self) -> None:
        with boundary:
            await self._client.ping()

    async def close(self) -> None:
        if self._lane is not None:
            self._lane.close()
        await self._client.aclose()
        if isinstance(self._client, RedisCluster):
            # After a connection error redis-py marks a cluster client for initialisation,
            # and aclose() then closes nothing: close every node's connections here.
            await self._client.nodes_manager.aclose()
            await self._client.nodes_manager.aclose("startup_nodes")

    async def drop(self) -> None:
        """Delete every key under this store's prefix (on a cluster, on every primary),
        and nothing else: never FLUSHDB."""
        batch: list[str] = []
        with boundary:
            async for key in self._client.scan_iter(match=self._keys.pattern(), count=1000):
                batch.append(key)
                if len(batch) == 500:
                    await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                await self._client.unlink(*batch)


def _versions(ruleset: str, fields: Mapping[str, str]) -> list[Version]:
    active = int(fields.get("active", 0))
    found = []
    for name, text in fields.items():
        if name.isdigit():
            body = orjson.loads(text)
            number = int(name)
            found.append(
                Version(ruleset, number, body["source"], body["created_at"], number == active)
            )
    return sorted(found, key=lambda v: v.number)
