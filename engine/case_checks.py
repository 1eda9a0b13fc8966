"""Expectations of conformance steps: how a result is compared (../shared/spec/CASES.md 3-4).

Only the keys an expectation gives are checked; amounts compare as exact decimals,
instants as instants, and lists as sets unless the format says otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from dsl.localtime import parse_instant


class CaseFormatError(Exception):
    """The case breaks the case format (CASES.md): it fails with this reason."""


class StepFailure(Exception):
    """A step's result differs from its expectation."""


class CampaignInfo(Protocol):
    def reward_count(self, campaign_id: str) -> int: ...


Result = Mapping[str, Any]
Labels = Mapping[str, Result]


# --- values ---------------------------------------------------------------------------------


def instant(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise CaseFormatError(f"instant {value} has no offset")
        return int(value.timestamp())
    if not isinstance(value, str):
        raise CaseFormatError(f"an instant must be a quoted ISO 8601 string, not {value!r}")
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise CaseFormatError(f"bad instant {value!r}: {exc}") from exc


def amount(value: Any, what: str) -> Decimal:
    if isinstance(value, bool | float):
        raise CaseFormatError(f"{what}: money {value!r} must be a string")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise CaseFormatError(f"{what}: {value!r} is not an amount") from exc


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 400 else text[:397] + "..."


def _same_amount(expected: Any, actual: Any, what: str) -> None:
    if actual is None or amount(expected, what) != amount(actual, what):
        raise StepFailure(f"{what}: expected {expected}, got {actual}")


def _equal(expected: Any, actual: Any, what: str) -> None:
    if expected != actual:
        raise StepFailure(f"{what}: expected {expected!r}, got {actual!r}")


def _first_code(labels: Labels, label: Any, reward: Any = None) -> str:
    result = labels.get(str(label))
    if result is None:
        raise CaseFormatError(f"no claim step is labelled {label!r}")
    coupons = [c for c in result.get("coupons") or [] if reward is None or c["reward"] == reward]
    if not coupons:
        raise StepFailure(f"the claim labelled {label!r} issued no such coupon")
    return str(coupons[0]["code"])


# --- evaluate -------------------------------------------------------------------------------

_ALLOCATION_FIELDS = ("amount", "stage")
_DISCOUNT_FIELDS = ("amount", "stage", "gift", "points")


def _match_entries(
    labels: Labels, expected: Any, actual: Sequence[Result], fields: Sequence[str], what: str
) -> None:
    """Exactly the listed entries, in any order, matched by campaign (and code)."""
    if not isinstance(expected, list):
        raise CaseFormatError(f"'{what}' must be a list")
    unused = list(actual)
    for entry in expected:
        if not isinstance(entry, dict) or "campaign" not in entry:
            raise CaseFormatError(f"each entry of '{what}' needs 'campaign'")
        code = None
        if "code_from" in entry:
            code = _first_code(labels, entry["code_from"], entry.get("reward"))
        found = next(
            (
                a
                for a in unused
                if a.get("campaign") == entry["campaign"]
                and (code is None or a.get("code") == code)
            ),
            None,
        )
        if found is None:
            raise StepFailure(f"{what}: no entry for {entry} in {short(list(actual))}")
        unused.remove(found)
        for key in fields:
            if key in entry:
                _compare_field(key, entry[key], found.get(key), f"{what} {entry['campaign']}.{key}")
    if unused:
        raise StepFailure(f"{what}: unexpected entries {short(unused)}")


def _compare_field(key: str, expected: Any, actual: Any, what: str) -> None:
    if key == "amount":
        _same_amount(expected, actual, what)
    elif key == "gift":
        _equal({"sku": str(expected["sku"]), "qty": expected.get("qty", 1)}, actual, what)
    else:
        _equal(expected, actual, what)


def _check_lines(labels: Labels, expected: Any, result: Result) -> None:
    lines = {line["line"]: line for line in result.get("lines", [])}
    for entry in expected:
        line = lines.get(entry.get("line"))
        if line is None:
            raise StepFailure(f"lines: the result has no line {entry.get('line')}")
        what = f"line {entry['line']}"
        for key in ("list", "paid"):
            if key in entry:
                _same_amount(entry[key], line.get(key), f"{what} {key}")
        if "allocations" in entry:
            _match_entries(
                labels, entry["allocations"], line["allocations"], _ALLOCATION_FIELDS, what
            )
        taken = sum(amount(a["amount"], what) for a in line["allocations"])
        if amount(line["list"], what) - taken != amount(line["paid"], what):
            raise StepFailure(f"{what}: list less allocations is not paid: {short(line)}")
        if amount(line["paid"], what) < 0:
            raise StepFailure(f"{what}: paid is negative")


def _check_shipping(labels: Labels, expected: Any, result: Result) -> None:
    shipping = result.get("shipping", {})
    for key in ("fee", "paid"):
        if key in expected:
            _same_amount(expected[key], shipping.get(key), f"shipping {key}")
    if "allocations" in expected:
        _match_entries(
            labels, expected["allocations"], shipping.get("allocations", []), _ALLOCATION_FIELDS,
            "shipping allocations",
        )  # fmt: skip


def _check_claimable(info: CampaignInfo, expected: Any, result: Result) -> None:
    available = set()
    for offer in result.get("claimable", []):
        if offer.get("available"):
            campaign = offer["campaign"]
            several = info.reward_count(campaign) > 1
            available.add(f"{campaign}.{offer['reward']}" if several else campaign)
    _equal(set(map(str, expected)), available, "claimable")


def _check_nudges(expected: Any, result: Result) -> None:
    def key(n: Mapping[str, Any]) -> tuple[str, Decimal, Decimal]:
        return (str(n["campaign"]), amount(n["spend_more"], "nudge"), amount(n["save"], "nudge"))

    _equal(sorted(map(key, expected)), sorted(map(key, result.get("nudges", []))), "nudges")


def _check_explain(labels: Labels, expected: Any, result: Result) -> None:
    if not isinstance(expected, dict):
        raise CaseFormatError("'explain' must be a mapping")
    explanations = result.get("explanations", [])
    for label, reason in expected.items():
        if label == "code_from":
            for coupon_label, coupon_reason in reason.items():
                code = _first_code(labels, coupon_label)
                found = [e["reason"] for e in explanations if e.get("code") == code]
                _equal(
                    coupon_reason, found[0] if found else None, f"explain code_from {coupon_label}"
                )
            continue
        campaign, _, reward = str(label).partition(".")
        found = [
            e["reason"]
            for e in explanations
            if e.get("campaign") == campaign
            and not e.get("code")
            and (not reward or e.get("reward") == reward)
        ]
        _equal(reason, found[0] if found else None, f"explain {label}")


def check_evaluate(
    info: CampaignInfo, labels: Labels, expect: Mapping[str, Any], result: Result
) -> None:
    if "discounts" in expect:
        _match_entries(
            labels, expect["discounts"], result["discounts"], _DISCOUNT_FIELDS, "discounts"
        )
    for key in ("total_discount", "paid"):
        if key in expect:
            _same_amount(expect[key], result.get(key), key)
    if "lines" in expect:
        _check_lines(labels, expect["lines"], result)
    if "shipping" in expect:
        _check_shipping(labels, expect["shipping"], result)
    if "claimable" in expect:
        _check_claimable(info, expect["claimable"], result)
    if "nudges" in expect:
        _check_nudges(expect["nudges"], result)
    if "explain" in expect:
        _check_explain(labels, expect["explain"], result)


# --- claim, redeem, revert ------------------------------------------------------------------


def check_claim(
    info: CampaignInfo, labels: Labels, expect: Mapping[str, Any], result: Result
) -> None:
    for key in ("status", "reason", "prize", "points", "replayed"):
        if key in expect:
            _equal(expect[key], result.get(key), key)
    coupons = result.get("coupons") or []
    if "coupons" in expect:
        _equal(expect["coupons"], len(coupons), "coupons")
    if "code_same_as" in expect:
        earlier = labels.get(str(expect["code_same_as"]))
        if earlier is None:
            raise CaseFormatError(f"no claim step is labelled {expect['code_same_as']!r}")
        codes = [c["code"] for c in earlier.get("coupons") or []]
        _equal(codes, [c["code"] for c in coupons], "codes")
    for key in ("valid_from", "valid_until"):
        if key in expect:
            _check_validity(key, expect[key], coupons)


def _check_validity(key: str, expected: Any, coupons: Sequence[Result]) -> None:
    if not coupons:
        raise StepFailure(f"{key}: the claim issued no coupon")
    for coupon in coupons:
        want = expected.get(coupon["reward"]) if isinstance(expected, dict) else expected
        if want is None:
            continue
        if instant(want) != instant(coupon[key]):
            raise StepFailure(f"{key} of {coupon['reward']}: expected {want}, got {coupon[key]}")


def check_redeem(
    info: CampaignInfo, labels: Labels, expect: Mapping[str, Any], result: Result
) -> None:
    for key in ("status", "reason", "replayed"):
        if key in expect:
            _equal(expect[key], result.get(key), key)
    if "amount" in expect:
        _same_amount(expect["amount"], result.get("amount"), "amount")


def check_revert(
    info: CampaignInfo, labels: Labels, expect: Mapping[str, Any], result: Result
) -> None:
    for key in ("status", "reason"):
        if key in expect:
            _equal(expect[key], result.get(key), key)


Check = Callable[[CampaignInfo, Labels, Mapping[str, Any], Result], None]
CHECKS: dict[str, Check] = {
    "evaluate": check_evaluate,
    "claim": check_claim,
    "redeem": check_redeem,
    "revert": check_revert,
}
