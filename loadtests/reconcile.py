"""The issuance log against what the clients saw (loadtests/records.py).

- Every claim a client saw acknowledged is in the log exactly once, with the same codes.
- Nothing is in the log that no client asked for: an entry no client saw acknowledged
  must come from a request that was sent and got no answer (a timeout): one with the
  entry's idempotency key, or, for a keyless claim, one of the unanswered keyless
  requests with the same campaign, user, device and IP.
- One idempotency key never issues twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from loadtests.records import ClientRecords, Signature

Problem = tuple[str, str, str]  # kind, campaign, detail


def reconcile(claims: Sequence[dict[str, Any]], records: ClientRecords) -> list[Problem]:
    """Every disagreement between the claim log entries and the records."""
    problems: list[Problem] = []
    logged = Counter(str(e.get("claim_id")) for e in claims)
    by_id = {str(e.get("claim_id")): e for e in claims}
    for claim_id, count in logged.items():
        if count > 1:
            campaign = str(by_id[claim_id].get("campaign"))
            problems.append(
                ("duplicate_claim", campaign, f"claim {claim_id} is in the log {count} times")
            )
    for claim_id, ack in sorted(records.acks.items()):
        entry = by_id.get(claim_id)
        if entry is None:
            problems.append((
                "missing_claim", ack.campaign,
                f"claim {claim_id} of user {ack.user} was acknowledged to a client but is "
                "not in the log",
            ))  # fmt: skip
        elif tuple(entry.get("codes") or ()) != ack.codes:
            problems.append((
                "codes_mismatch", ack.campaign,
                f"claim {claim_id} was acknowledged with codes {list(ack.codes)}, "
                f"the log has {entry.get('codes')}",
            ))  # fmt: skip
    problems += _unrequested(claims, records)
    problems += _keys_issued_twice(claims)
    problems += [("client_anomaly", "-", text) for text in records.conflicts]
    return problems


def _unrequested(claims: Sequence[dict[str, Any]], records: ClientRecords) -> list[Problem]:
    problems: list[Problem] = []
    keyless: Counter[Signature] = Counter()
    for entry in claims:
        claim_id = str(entry.get("claim_id"))
        if claim_id in records.acks:
            continue
        campaign, user, key = str(entry["campaign"]), str(entry["user"]), str(entry["key"])
        if key:
            if (campaign, user, key) not in records.sent_keys:
                problems.append((
                    "unrequested_claim", campaign,
                    f"claim {claim_id} of user {user} with key {key} is in the log, but no "
                    "client sent that key",
                ))  # fmt: skip
            continue
        keyless[(campaign, user, str(entry["device"]), str(entry["ip"]))] += 1
    for sig, count in sorted(keyless.items()):
        unanswered = records.keyless_sent[sig] - records.keyless_acked[sig]
        if count > unanswered:
            campaign, user, device, ip = sig
            problems.append((
                "unrequested_claim", campaign,
                f"{count} keyless claim(s) for user {user} (device {device!r}, "
                f"IP {ip!r}) are in the log, but clients sent only {unanswered} such "
                "request(s) that went unacknowledged",
            ))  # fmt: skip
    return problems


def _keys_issued_twice(claims: Sequence[dict[str, Any]]) -> list[Problem]:
    seen: Counter[tuple[str, str, str]] = Counter(
        (str(e["campaign"]), str(e["user"]), str(e["key"])) for e in claims if e.get("key")
    )
    return [
        ("double_issue", campaign, f"key {key} of user {user} issued {n} claims")
        for (campaign, user, key), n in sorted(seen.items())
        if n > 1
    ]
