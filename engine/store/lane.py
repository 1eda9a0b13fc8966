"""The lane: the hot calls to one Redis server over one connection per event loop.

redis-py spends about 200 us of CPU per EVALSHA on this machine (pool checkout, retry and
observability wrappers, an asyncio timeout per read); the lane about 20. Every task of
the loop shares one connection: commands are written as they come, all of one loop
iteration in one send, and replies (which Redis sends in order) are read with hiredis
straight into the waiting futures. Errors are redis-py's exception types, so that
RedisStore's one boundary (engine/store/redis.py) turns them into StoreUnavailable.
Redis Cluster and the cold calls stay on redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, cast

import hiredis
from redis import exceptions as rx
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.commands.core import AsyncScript

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


class Wire(asyncio.Protocol):
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
        self._wire: Wire | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[Wire] | None = None

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
    def serves(client: Redis | RedisCluster) -> bool:
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

    async def _connected(self) -> Wire:
        """The wire of this loop, connecting once for every task that asks meanwhile."""
        loop = asyncio.get_running_loop()
        if self._connecting is None or self._loop is not loop or self._connecting.done():
            self._loop = loop
            self._connecting = loop.create_future()
            task = loop.create_task(self._connect(self._connecting))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        return await asyncio.shield(self._connecting)

    async def _connect(self, done: asyncio.Future[Wire]) -> None:
        loop = asyncio.get_running_loop()
        try:
            wire = Wire(self._name)
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
