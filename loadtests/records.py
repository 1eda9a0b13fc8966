"""What the clients saw: every claim they sent, every claim acknowledged, every 5xx.

Each locust process appends JSON lines to its own `claims-PID.jsonl` in the records
folder (one writer per file, so no locking), and the invariant checker reads them all
back (`ClientRecords.load`) to compare with the issuance log:

    {"e": "sent", "campaign", "user", "key", "device", "ip", "reward"}   before each attempt
    {"e": "ack", "campaign", "user", "key", "claim_id", "codes", "replayed"}   on `issued`
    {"e": "5xx", "name", "status"}                                        any 5xx answer
    {"e": "anomaly", "detail"}                     an answer that breaks an API promise

A claim sent with a key may be in the log without an acknowledgement (the client timed
out, the store step ran): the key says which request it was. A keyless claim is matched
by (campaign, user, device, IP) against the keyless requests that got no answer.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

Signature = tuple[str, str, str, str]  # campaign, user, device, normalised IP


class Recorder:
    """Appends one process's records; opened lazily so a forked process gets its own file."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._file: IO[bytes] | None = None
        self._pid = 0

    def _out(self) -> IO[bytes] | None:
        if self.directory is None:
            return None
        if self._file is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self.directory.mkdir(parents=True, exist_ok=True)
            # Unbuffered: a line is on disk once written, even if the process is killed.
            self._file = (self.directory / f"claims-{self._pid}.jsonl").open("ab", buffering=0)
        return self._file

    def _write(self, record: dict[str, Any]) -> None:
        out = self._out()
        if out is not None:
            out.write(orjson.dumps(record) + b"\n")

    def sent(self, body: dict[str, Any], key: str | None) -> None:
        user = body["user"]
        self._write({
            "e": "sent", "campaign": body["campaign"], "reward": body.get("reward"),
            "user": user["id"] if isinstance(user, dict) else user, "key": key,
            "device": body.get("device") or "", "ip": body.get("ip") or "",
        })  # fmt: skip

    def acknowledged(self, body: dict[str, Any], key: str | None, result: dict[str, Any]) -> None:
        user = body["user"]
        self._write({
            "e": "ack", "campaign": body["campaign"], "key": key,
            "user": user["id"] if isinstance(user, dict) else user,
            "device": body.get("device") or "", "ip": body.get("ip") or "",
            "claim_id": result["claim_id"], "codes": [c["code"] for c in result["coupons"]],
            "replayed": bool(result.get("replayed")),
        })  # fmt: skip

    def server_error(self, name: str, status: int) -> None:
        self._write({"e": "5xx", "name": name, "status": status})

    def anomaly(self, detail: str) -> None:
        """Something a client saw that breaks a promise of the API (a replay that
        answers another claim): a violation."""
        self._write({"e": "anomaly", "detail": detail})

    def flush(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Ack:
    campaign: str
    user: str
    key: str | None
    claim_id: str
    codes: tuple[str, ...]
    signature: Signature


@dataclass
class ClientRecords:
    """Every process's records, read back for the checker."""

    acks: dict[str, Ack] = field(default_factory=dict)  # by claim id (replays share one)
    ack_count: int = 0
    sent_count: int = 0
    sent_keys: set[tuple[str, str, str]] = field(default_factory=set)  # campaign, user, key
    keyless_sent: Counter[Signature] = field(default_factory=Counter)
    keyless_acked: Counter[Signature] = field(default_factory=Counter)
    server_errors: Counter[tuple[str, int]] = field(default_factory=Counter)
    # One claim id acknowledged with other codes, and the clients' own anomalies.
    conflicts: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path, normalise: Any = None) -> ClientRecords:
        """Read every `claims-*.jsonl` of `directory`; `normalise(ip) -> str` maps the
        IPs clients sent to the form the log holds (identity by default)."""
        records = cls()
        for path in sorted(directory.glob("claims-*.jsonl")):
            records.add(_lines(path.read_bytes().splitlines()), normalise)
        return records

    def add(self, lines: Iterable[dict[str, Any]], normalise: Any = None) -> None:
        for rec in lines:
            kind = rec["e"]
            if kind == "5xx":
                self.server_errors[(rec["name"], int(rec["status"]))] += 1
                continue
            if kind == "anomaly":
                self.conflicts.append(rec["detail"])
                continue
            ip = normalise(rec["ip"]) if normalise and rec["ip"] else rec["ip"]
            sig: Signature = (rec["campaign"], rec["user"], rec["device"], ip)
            if kind == "sent":
                self.sent_count += 1
                if rec["key"] is None:
                    self.keyless_sent[sig] += 1
                else:
                    self.sent_keys.add((rec["campaign"], rec["user"], rec["key"]))
            elif kind == "ack":
                self._ack(rec, sig)

    def _ack(self, rec: dict[str, Any], sig: Signature) -> None:
        self.ack_count += 1
        if rec["key"] is None:
            self.keyless_acked[sig] += 1
        codes = tuple(rec["codes"])
        known = self.acks.get(rec["claim_id"])
        if known is not None and (known.codes != codes or known.user != rec["user"]):
            self.conflicts.append(
                f"claim {rec['claim_id']} was acknowledged with codes {list(known.codes)} "
                f"and with {list(codes)}"
            )
        self.acks[rec["claim_id"]] = Ack(
            rec["campaign"], rec["user"], rec["key"], rec["claim_id"], codes, sig
        )


def _lines(raw: Sequence[bytes]) -> Iterable[dict[str, Any]]:
    for line in raw:
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line cut short by a killed process: nothing it says can be trusted
