"""RedisStore: the counter store on Redis or Redis Cluster (redis.asyncio with hiredis).

Claim, redeem and revert are one Lua script call each (EVALSHA, reloaded on NOSCRIPT), so
one round trip; engine/store/keys.py says where data lives. Clients come from `open_store`
(engine/store/open.py) without retries: a step that timed out may have run, and running
it again could issue twice.

On a single Redis server the hot calls (the three scripts, counter reads) take the lane
(engine/store/lane.py): one pipelined connection per event loop, read with hiredis. Other
calls, and Redis Cluster, go through redis-py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from types import TracebackType
from typing import Any

import orjson
from redis import exceptions as rx
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
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
from engine.store.claim_wire import planned_args
from engine.store.keys import (
    KeyLayout,
    claim_args,
    coupon_entry,
    coupon_record,
    decode_entry,
    encode_entry,
    pairs,
)
from engine.store.lane import Lane

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
        if step.shape is not None and step.shape.now == now:
            keys, args = planned_args(self._keys, step)  # the shape's template, filled in
        else:
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
            return ClaimResult("issued", result=step.result(index), outcome=index)
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

    async def changes(self) -> tuple[int, int]:
        meta = self._keys.meta
        with boundary:
            # A pipeline, not MGET: in a Cluster the two keys may live in different slots.
            pipe = self._client.pipeline(transaction=False)
            pipe.get(meta("lists", "n"))
            pipe.get(meta("paused", "n"))
            lists, paused = await pipe.execute()
        return int(lists or 0), int(paused or 0)

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

    async def active_versions(self) -> dict[str, int]:
        with boundary:
            names = sorted(await self._client.smembers(self._keys.meta("rulesets")))
            pipe = self._client.pipeline(transaction=False)
            for name in names:
                pipe.hget(self._keys.meta("versions", name), "active")
            numbers = await pipe.execute() if names else []
        return {n: int(a) for n, a in zip(names, numbers, strict=True) if a is not None}

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
