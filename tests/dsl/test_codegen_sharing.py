"""Shared values computed once, lazily, behind short-circuits: `check_all` and every
`check_<i>` against a plain evaluation, on random segments, aggregates and campaigns."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compiler import compile_text
from dsl.context import Context, Item
from dsl.model import DENIED, NOT_ELIGIBLE, OK

DISCOUNT = "discount { value 1 off }"
ATOMS = (
    "user.level >= 2",
    '"t" in user.tags',
    "user.is_new",
    "any(items where item.qty >= 2)",
    'count(items where item.category == "c") >= 2',
    'user.id in list "L"',
    'all(items where item.category == "c")',
    "sum(item.price for items where item.qty >= 2) > 1",
)


def atom(i: int, env: dict[str, Any]) -> bool:
    items: list[Item] = env["items"]
    return [
        env["level"] >= 2,
        "t" in env["tags"],
        env["is_new"],
        any(x.qty >= 2 for x in items),
        sum(x.qty for x in items if x.category == "c") >= 2,
        env["user_id"] in env["lists"].get("L", ()),
        all(x.category == "c" for x in items),
        sum(x.price for x in items if x.qty >= 2) > 100,
    ][i]


def exprs(segments: int) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.integers(0, len(ATOMS) - 1).map(lambda i: ("atom", i)),
        *([st.integers(0, segments - 1).map(lambda i: ("seg", i))] if segments else []),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(["and", "or"]), inner, inner),
            st.tuples(st.just("not"), inner),
        ),
        max_leaves=4,
    )


def text(e: Any) -> str:
    if e[0] == "atom":
        return f"({ATOMS[e[1]]})"
    if e[0] == "seg":
        return f"s{e[1]}"
    if e[0] == "not":
        return f"not ({text(e[1])})"
    return f"({text(e[1])}) {e[0]} ({text(e[2])})"


def truth(e: Any, env: dict[str, Any], segments: list[Any]) -> bool:
    if e[0] == "atom":
        return atom(e[1], env)
    if e[0] == "seg":
        return truth(segments[e[1]], env, segments)
    if e[0] == "not":
        return not truth(e[1], env, segments)
    left = truth(e[1], env, segments)
    return (
        (left and truth(e[2], env, segments))
        if e[0] == "and"
        else (left or truth(e[2], env, segments))
    )


@st.composite
def rulesets(draw: st.DrawFn) -> tuple[list[Any], list[tuple[list[Any], list[Any]]]]:
    segments: list[Any] = []
    for i in range(draw(st.integers(0, 4))):
        segments.append(draw(exprs(i)))
    top = exprs(len(segments))
    campaigns = draw(
        st.lists(
            st.tuples(st.lists(top, max_size=3), st.lists(top, max_size=2)), min_size=1, max_size=6
        )
    )
    return segments, campaigns


requests = st.fixed_dictionaries(
    {
        "level": st.integers(0, 3),
        "tags": st.sampled_from([(), ("t",)]),
        "is_new": st.booleans(),
        "user_id": st.sampled_from(["u1", "u2"]),
        "lists": st.sampled_from([{}, {"L": frozenset({"u1"})}]),
        "items": st.lists(
            st.builds(
                lambda q, c, p: Item(0, "S", c, "", p, q, (), {}),
                st.integers(1, 3),
                st.sampled_from("cd"),
                st.integers(0, 200),
            ),
            max_size=3,
        ),
    }
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(requests, min_size=1, max_size=4))
def test_lazy_shared_values_give_plain_results(rules: Any, contexts: list[dict[str, Any]]) -> None:
    segments, campaigns = rules
    body = "".join(f"segment s{i} = {text(s)}\n" for i, s in enumerate(segments))
    for i, (whens, denies) in enumerate(campaigns):
        items = "".join(f" when {text(w)}" for w in whens) + "".join(
            f" deny when {text(d)}" for d in denies
        )
        body += f"campaign c{i} {{ window 2026-01-01 .. 2026-01-02 {items} {DISCOUNT} }}\n"
    r, _ = compile_text(f'ruleset "s"\ntimezone "UTC"\ncurrency CNY\n{body}', "s.promo")
    for env in contexts:
        ctx = Context(now=0, currency="CNY")
        ctx.level, ctx.user_tags, ctx.is_new, ctx.user_id = (
            env["level"],
            env["tags"],
            env["is_new"],
            env["user_id"],
        )
        ctx.items = tuple(
            Item(i, x.sku, x.category, "", x.price, x.qty, (), {})
            for i, x in enumerate(env["items"])
        )
        expected = []
        for whens, denies in campaigns:
            if not all(truth(w, env, segments) for w in whens):
                expected.append(NOT_ELIGIBLE)
            else:
                expected.append(DENIED if any(truth(d, env, segments) for d in denies) else OK)
        bound = r.bind(ctx)
        assert list(r.check_all(ctx, bound, env["lists"])) == expected, r.generated_source
        assert [c.check(ctx, bound, env["lists"]) for c in r.campaigns] == expected
