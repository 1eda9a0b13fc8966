"""Exact arithmetic: generated integer (and Decimal) code against a Fraction reference on
random expressions and contexts (LANGUAGE.md 5.3: numbers are exact decimals)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compiler import compile_text
from dsl.context import Context
from dsl.model import NOT_ELIGIBLE, OK

CONTEXT = "context {\n user.i: int = 0\n user.m: money = 0\n user.d: decimal = 0\n}\n"
FIELDS = {
    "user.level": "int", "user.risk_score": "int", "user.i": "int", "cart.total": "money",
    "cart.shipping": "money", "user.m": "money", "user.d": "decimal",
}  # fmt: skip
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
DISCOUNT = "discount { value 1 off }"

literals = st.builds(
    lambda whole, frac, places: Decimal(whole) + Decimal(frac).scaleb(-places),
    st.integers(0, 300),
    st.integers(0, 999),
    st.integers(0, 3),
).map(lambda d: ("lit", d))
leaves = st.one_of(st.sampled_from(sorted(FIELDS)).map(lambda f: ("field", f)), literals)
numbers = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*"]), inner, inner),
        st.tuples(st.just("neg"), inner),
    ),
    max_leaves=5,
)
conditions = st.one_of(
    st.tuples(st.sampled_from(COMPARISONS), numbers, numbers),
    st.tuples(
        st.sampled_from(["in", "not in"]), numbers, st.lists(numbers, min_size=1, max_size=3)
    ),
)


def text(e: Any) -> str:
    kind = e[0]
    if kind == "field":
        return str(e[1])
    if kind == "lit":
        return format(e[1], "f")
    if kind == "neg":
        return f"-({text(e[1])})"
    if kind in ("in", "not in"):
        return f"{text(e[1])} {kind} [{', '.join(text(x) for x in e[2])}]"
    return f"({text(e[1])}) {kind} ({text(e[2])})"


def value(e: Any, env: dict[str, Fraction]) -> Any:
    kind = e[0]
    if kind == "field":
        return env[e[1]]
    if kind == "lit":
        return Fraction(e[1])
    if kind == "neg":
        return -value(e[1], env)
    left = value(e[1], env)
    if kind in ("in", "not in"):
        return (left in [value(x, env) for x in e[2]]) == (kind == "in")
    right = value(e[2], env)
    ops = {
        "+": left.__add__, "-": left.__sub__, "*": left.__mul__, "==": left.__eq__,
        "!=": left.__ne__, "<": left.__lt__, "<=": left.__le__, ">": left.__gt__, ">=": left.__ge__,
    }  # fmt: skip
    return ops[kind](right)


requests = st.fixed_dictionaries(
    {
        "level": st.integers(-50, 50),
        "risk_score": st.integers(0, 100),
        "i": st.integers(-1000, 1000),
        "total": st.integers(0, 10**6),
        "shipping": st.integers(0, 5000),
        "m": st.integers(0, 10**6),
        "d": st.decimals(min_value=-1000, max_value=1000, places=6, allow_nan=False),
    }
)


def context(r: dict[str, Any], minor_units: int) -> tuple[Context, dict[str, Fraction]]:
    ctx = Context(now=0, currency="CNY")
    ctx.level, ctx.risk_score, ctx.total, ctx.shipping = (
        r["level"],
        r["risk_score"],
        r["total"],
        r["shipping"],
    )
    m = Fraction(r["m"], 10**minor_units)
    money = format(Decimal(m.numerator) / Decimal(m.denominator), "f")
    ctx.user_attributes = {"i": r["i"], "m": money, "d": str(r["d"])}
    unit = 10**minor_units
    env = {
        "user.level": Fraction(r["level"]), "user.risk_score": Fraction(r["risk_score"]),
        "user.i": Fraction(r["i"]), "cart.total": Fraction(r["total"], unit),
        "cart.shipping": Fraction(r["shipping"], unit), "user.m": m, "user.d": Fraction(r["d"]),
    }  # fmt: skip
    return ctx, env


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(conditions, min_size=1, max_size=8),
    st.lists(requests, min_size=1, max_size=4),
    st.sampled_from([("CNY", 2), ("JPY", 0)]),
)
def test_generated_arithmetic_is_exact(
    whens: list[Any], contexts: list[dict[str, Any]], currency: tuple[str, int]
) -> None:
    code, minor_units = currency
    body = "".join(
        f"campaign c{i} {{ window 2026-01-01 .. 2026-01-02  when {text(w)}  {DISCOUNT} }}\n"
        for i, w in enumerate(whens)
    )
    r, _ = compile_text(f'ruleset "n"\ntimezone "UTC"\ncurrency {code}\n{CONTEXT}{body}', "n.promo")
    for request in contexts:
        ctx, env = context(request, minor_units)
        bound = r.bind(ctx)
        expected = [OK if value(w, env) else NOT_ELIGIBLE for w in whens]
        assert list(r.check_all(ctx, bound, {})) == expected
        assert [c.check(ctx, bound, {}) for c in r.campaigns] == expected
