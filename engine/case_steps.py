"""Steps of a conformance case and their expectations (../shared/spec/CASES.md 3-4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from engine.case_checks import CHECKS, CaseFormatError, StepFailure, instant, short
from engine.clock import FixedClock
from engine.engine import Engine
from engine.errors import RequestError

ACTIONS = (
    "at", "evaluate", "claim", "redeem", "revert", "list_add", "list_remove",
    "repeat", "pause", "resume",
)  # fmt: skip


class _Run:
    """The state of one running case: labelled claim results."""

    def __init__(self, engine: Engine, clock: FixedClock) -> None:
        self.engine = engine
        self.clock = clock
        self.labels: dict[str, dict[str, Any]] = {}


async def run_steps(engine: Engine, clock: FixedClock, steps: Sequence[Any]) -> None:
    run = _Run(engine, clock)
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise CaseFormatError(f"step {number} is not a mapping")
        actions = [k for k in step if k in ACTIONS]
        extra = [k for k in step if k not in ACTIONS and k not in ("label", "expect")]
        if len(actions) != 1 or extra:
            raise CaseFormatError(f"step {number} needs exactly one action of {', '.join(ACTIONS)}")
        action = actions[0]
        try:
            await _run_step(run, action, step)
        except StepFailure as exc:
            raise StepFailure(f"step {number} ({action}): {exc}") from None
        except CaseFormatError as exc:
            raise CaseFormatError(f"step {number} ({action}): {exc}") from None


async def _run_step(run: _Run, action: str, step: dict[str, Any]) -> None:
    value, expect = step[action], step.get("expect")
    if action == "at":
        run.clock.set(instant(value))
        return
    if action in ("list_add", "list_remove"):
        if not isinstance(value, dict) or "list" not in value or "value" not in value:
            raise CaseFormatError(f"{action} needs 'list' and 'value'")
        change = run.engine.list_add if action == "list_add" else run.engine.list_remove
        await change(str(value["list"]), [str(value["value"])])
        return
    if action in ("pause", "resume"):
        await (run.engine.pause if action == "pause" else run.engine.resume)(str(value))
        return
    if action == "repeat":
        await _repeat(run, value, expect)
        return
    wanted_error = expect.get("error") if isinstance(expect, dict) else None
    _reject_floats(value, allowed=wanted_error == "invalid_request")
    result = await _call(run, action, value)
    if isinstance(result, RequestError):
        if wanted_error is None:
            raise StepFailure(f"request error {result.code} ({result.detail})")
        if result.code != wanted_error:
            raise StepFailure(f"expected error {wanted_error}, got {result.code}")
        return
    if wanted_error is not None:
        raise StepFailure(f"expected error {wanted_error}, got a result: {short(result)}")
    if action == "claim" and isinstance(step.get("label"), str):
        run.labels[step["label"]] = result
    if expect is not None:
        if not isinstance(expect, dict):
            raise CaseFormatError("'expect' must be a mapping")
        CHECKS[action](run.engine, run.labels, expect, result)


async def _call(run: _Run, action: str, value: Any) -> dict[str, Any] | RequestError:
    try:
        if action == "evaluate":
            return await run.engine.evaluate(_evaluate_request(run, value))
        if action == "claim":
            return await run.engine.claim(_claim_request(value))
        if action == "redeem":
            return await run.engine.redeem(_redeem_request(run, value))
        return await run.engine.revert({"code": _coupon_code(run, value)})
    except RequestError as exc:
        return exc


# --- requests -------------------------------------------------------------------------------


def _evaluate_request(run: _Run, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseFormatError("evaluate needs a mapping")
    context = {k: v for k, v in value.items() if k not in ("coupons", "explain")}
    _expand_shorthands(context)
    refs = value.get("coupons", [])
    if not isinstance(refs, list):
        raise CaseFormatError("'coupons' must be a list of coupon references")
    codes = [_coupon_code(run, ref) for ref in refs]
    return {"context": context, "coupons": codes, "explain": bool(value.get("explain", False))}


def _expand_shorthands(context: dict[str, Any]) -> None:
    if isinstance(context.get("user"), str):
        context["user"] = {"id": context["user"]}
    if isinstance(context.get("device"), str):
        context["device"] = {"id": context["device"]}


def _claim_request(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or "campaign" not in value:
        raise CaseFormatError("claim needs 'campaign'")
    request = dict(value)
    if isinstance(request.get("device"), dict):
        request["device"] = request["device"].get("id")
    return request


def _redeem_request(run: _Run, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseFormatError("redeem needs a mapping")
    request = {k: v for k, v in value.items() if k not in ("code_from", "code", "reward")}
    request["code"] = _coupon_code(run, value)
    return request


def _coupon_code(run: _Run, ref: Any) -> str:
    if not isinstance(ref, dict):
        raise CaseFormatError("a coupon reference is {code_from: LABEL} or {code: TEXT}")
    if "code" in ref:
        return str(ref["code"])
    label = ref.get("code_from")
    if not isinstance(label, str):
        raise CaseFormatError("a coupon reference needs 'code_from' or 'code'")
    result = run.labels.get(label)
    if result is None:
        raise CaseFormatError(f"no claim step is labelled {label!r}")
    coupons = result.get("coupons") or []
    if "reward" in ref:
        coupons = [c for c in coupons if c.get("reward") == ref["reward"]]
    if not coupons:
        raise StepFailure(f"the claim labelled {label!r} issued no such coupon")
    return str(coupons[0]["code"])


def _reject_floats(value: Any, *, allowed: bool) -> None:
    """A money value written as a YAML float is a format error (CASES.md 4), except in a
    request that expects invalid_request."""
    if allowed:
        return
    if isinstance(value, float):
        raise CaseFormatError(f"{value!r} is a YAML float; write money as a quoted string")
    if isinstance(value, dict):
        for v in value.values():
            _reject_floats(v, allowed=False)
    elif isinstance(value, list):
        for v in value:
            _reject_floats(v, allowed=False)


# --- repeat ---------------------------------------------------------------------------------


async def _repeat(run: _Run, value: Any, expect: Any) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("times"), int):
        raise CaseFormatError("repeat needs 'times' and 'step'")
    inner = value.get("step")
    if (
        not isinstance(inner, dict)
        or len(inner) != 1
        or next(iter(inner)) not in ("claim", "redeem")
    ):
        raise CaseFormatError("repeat's 'step' is one claim or redeem")
    action, template = next(iter(inner.items()))
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    prizes: Counter[str] = Counter()
    for i in range(1, value["times"] + 1):
        request = _substitute(template, i)
        _reject_floats(request, allowed=False)
        result = await _call(run, action, request)
        if isinstance(result, RequestError):
            raise StepFailure(f"iteration {i}: request error {result.code} ({result.detail})")
        statuses[str(result.get("status"))] += 1
        if result.get("reason"):
            reasons[str(result["reason"])] += 1
        if result.get("prize"):
            prizes[str(result["prize"])] += 1
    if expect is None:
        return
    if not isinstance(expect, dict):
        raise CaseFormatError("'expect' must be a mapping")
    for key, counts in (("statuses", statuses), ("reasons", reasons), ("prizes", prizes)):
        if key in expect:
            _check_counts(key, expect[key], counts)


def _substitute(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, dict):
        return {k: _substitute(v, i) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, i) for v in value]
    return value


def _check_counts(key: str, expected: Any, actual: Counter[str]) -> None:
    if not isinstance(expected, dict):
        raise CaseFormatError(f"'{key}' must be a mapping")
    for name, want in expected.items():
        got = actual.get(str(name), 0)
        if isinstance(want, dict):
            low, high = want.get("min", 0), want.get("max", float("inf"))
            if not low <= got <= high:
                raise StepFailure(f"{key}: {name} occurred {got} times, expected {want}")
        elif got != want:
            raise StepFailure(f"{key}: {name} occurred {got} times, expected {want}")
    others = {k: v for k, v in actual.items() if k not in {str(n) for n in expected} and v}
    if others:
        raise StepFailure(f"{key}: unexpected {dict(others)} (expected only {expected})")
