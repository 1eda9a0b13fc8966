"""Read a promo-engine Redis directly, in the real key layout (engine/store/keys.py): the
active rulesets, a tag's issuance log and a campaign's counters. Never through the
service, whose answers are what the checker means to verify.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import redis

from dsl.compiler import compile_text
from dsl.model import CompiledRuleset
from engine.store import Scope
from engine.store.keys import KeyLayout, decode_entry

_BATCH = 5_000


class StoreView:
    """A read-only look at one store (a Redis URL and the service's key prefix)."""

    def __init__(self, url: str, prefix: str = "promo:") -> None:
        # Any: replies are str (decode_responses=True), which redis-py's types cannot say.
        self._redis: Any = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30)
        self.layout = KeyLayout(prefix)

    def close(self) -> None:
        self._redis.close()

    def active_rulesets(self) -> list[CompiledRuleset]:
        """The active version of every ruleset the store holds (what the service serves)."""
        meta = self.layout.meta
        found = []
        for ruleset in sorted(self._redis.smembers(meta("rulesets"))):
            versions = self._redis.hgetall(meta("versions", ruleset))
            active = versions.get("active")
            if active is None or active not in versions:
                continue
            source = orjson.loads(versions[active])["source"]
            found.append(compile_text(source, f"{ruleset}@v{active}.promo")[0])
        return found

    def log(self, tag: str) -> list[dict[str, Any]]:
        """Every entry of the log of routing tag `tag`, oldest first, decoded."""
        return list(self._entries(self.layout.log(tag)))

    def _entries(self, key: str) -> Iterator[dict[str, Any]]:
        start = "-"
        while True:
            batch = self._redis.xrange(key, min=start, max="+", count=_BATCH)
            for entry_id, fields in batch:
                yield decode_entry(entry_id, fields)
            if len(batch) < _BATCH:
                return
            start = f"({batch[-1][0]}"

    def counters(self, scope: Scope) -> dict[str, int]:
        """Every counter of the campaign by logical key (idempotency records left out)."""
        base = self.layout.base(scope)
        pattern = "".join("\\" + ch if ch in "*?[]\\" else ch for ch in base) + "*"
        keys = [
            k
            for k in self._redis.scan_iter(match=pattern, count=1_000)
            if not k.startswith(base + "!")
        ]
        values: dict[str, int] = {}
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            for key, value in zip(chunk, self._redis.mget(chunk), strict=True):
                if value is not None:
                    values[key[len(base) :]] = int(value)
        return values
