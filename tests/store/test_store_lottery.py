"""Lottery draws and pity on both stores (LANGUAGE.md 7.4), with chosen values of u.

The example of 7.4: `prize phone weight 1 stock 10`, `prize pts points 5 weight 9`,
`otherwise "Thanks" weight 90`: the phone with probability 1/100 while phones are left,
and then `otherwise` with 91/100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from engine.store import ClaimResult, ClaimStep, Counter, CounterStore, Draw, Outcome
from tests.store.builders import NOW, SCOPE, claim, coupon, draw, limit, outcome

PHONE_STOCK = limit("s:phone", 10, "out_of_stock")


def prizes(phone_stock: Counter = PHONE_STOCK, *, otherwise: int | None = 90) -> list[Outcome]:
    found = [outcome("phone", 1, counters=[phone_stock]), outcome("pts", 9)]
    if otherwise is not None:
        found.append(outcome("otherwise", otherwise))
    return found


def lottery(the_draw: Draw, outcomes: Sequence[Outcome] | None = None, **kw: Any) -> ClaimStep:
    return claim(outcomes=outcomes if outcomes is not None else prizes(), draw=the_draw, **kw)


async def last_draw(store: CounterStore) -> dict[str, Any]:
    draw_: dict[str, Any] = (await store.log(SCOPE))[-1]["draw"]
    return draw_


async def use_up_phones(store: CounterStore) -> None:
    for _ in range(10):
        await store.claim(claim(checks=[PHONE_STOCK]), NOW)


@pytest.mark.parametrize(
    ("u", "won"),
    [(0.0, 0), (0.0099, 0), (0.01, 1), (0.0999, 1), (0.1, 2), (0.999999, 2)],
)
async def test_u_falls_on_the_published_weights(store: CounterStore, u: float, won: int) -> None:
    result = await store.claim(lottery(draw(u)), NOW)
    assert (result.status, result.outcome) == ("issued", won)
    prize = ["phone", "pts", "otherwise"][won]
    expected = {"u": u, "weights": [1, 9, 90], "outcome": won, "prize": prize, "pity": False}
    assert await last_draw(store) == expected


async def test_a_drawn_prize_takes_its_stock(store: CounterStore) -> None:
    await store.claim(lottery(draw(0.0)), NOW)
    await store.claim(lottery(draw(0.5)), NOW)
    assert await store.counters(SCOPE, ["s:phone"]) == [1]


async def test_an_unavailable_prize_weighs_on_otherwise(store: CounterStore) -> None:
    await use_up_phones(store)
    # The phone's 1/100 went to `otherwise` (91/100); pts keeps its 9/100.
    assert (await store.claim(lottery(draw(0.0)), NOW)).outcome == 1
    assert (await last_draw(store))["weights"] == [0, 9, 91]
    assert (await store.claim(lottery(draw(0.0899)), NOW)).outcome == 1
    assert (await store.claim(lottery(draw(0.09)), NOW)).outcome == 2


async def test_without_otherwise_the_draw_is_among_available_prizes(store: CounterStore) -> None:
    await use_up_phones(store)
    step = lottery(draw(0.0, otherwise=False), prizes(otherwise=None))
    assert (await store.claim(step, NOW)).outcome == 1
    assert (await last_draw(store))["weights"] == [0, 9]


async def test_without_otherwise_nothing_to_draw_is_out_of_stock(store: CounterStore) -> None:
    await use_up_phones(store)
    outcomes = [outcome("phone", 1, counters=[PHONE_STOCK]), outcome("pts", 0)]
    step = lottery(draw(0.3, otherwise=False, guarantee=0, after=0), outcomes,
                   checks=[limit("l:u1", 5)])  # fmt: skip
    assert await store.claim(step, NOW) == ClaimResult("rejected", "out_of_stock")
    # A refusal changes nothing: no limit, no pity, no log entry.
    assert await store.counters(SCOPE, ["l:u1", "p:u1"]) == [0, 0]
    assert len(await store.log(SCOPE)) == 10


async def test_a_zero_total_with_otherwise_gives_otherwise(store: CounterStore) -> None:
    outcomes = [outcome("rare", 0), outcome("otherwise", 0)]
    result = await store.claim(lottery(draw(0.7), outcomes), NOW)
    assert (result.status, result.outcome) == ("issued", 1)


async def test_a_budget_makes_a_coupon_prize_unavailable(store: CounterStore) -> None:
    # 7.4 and 8.3: a lottery's budget only decides which prizes are available.
    budget = limit("b:*:all", 5000, "budget_exhausted", amount=3000)

    def outcomes() -> list[Outcome]:
        return [
            outcome("c30", 50, budget=[budget], coupons=[coupon()]),
            outcome("pts", 50, budget=[limit("b:*:all", 5000, "budget_exhausted", amount=0)]),
            outcome("otherwise", 0),
        ]

    first = await store.claim(lottery(draw(0.1), outcomes()), NOW)
    # 3000 taken, 2000 left: c30's weight goes to otherwise, and u = 0.6 falls there.
    second = await store.claim(lottery(draw(0.6), outcomes()), NOW)
    assert (first.outcome, second.outcome) == (0, 2)
    assert (await last_draw(store))["weights"] == [0, 50, 50]
    assert await store.counters(SCOPE, ["b:*:all"]) == [3000]


def pity_lottery(u: float, after: int = 2, phone_stock: Counter = PHONE_STOCK) -> ClaimStep:
    return lottery(draw(u, guarantee=0, after=after), prizes(phone_stock))


async def test_pity_gives_the_guaranteed_prize_after_n_misses(store: CounterStore) -> None:
    outcomes = [(await store.claim(pity_lottery(0.99), NOW)).outcome for _ in range(3)]
    assert outcomes == [2, 2, 0]  # two misses, then the phone without drawing
    assert (await last_draw(store))["pity"] is True
    assert await store.pity(SCOPE, "p:u1") == 0
    assert (await store.claim(pity_lottery(0.99), NOW)).outcome == 2
    assert await store.pity(SCOPE, "p:u1") == 1


async def test_pity_due_but_unavailable_draws_and_stays_due(store: CounterStore) -> None:
    for _ in range(2):
        await store.claim(pity_lottery(0.99), NOW)
    await use_up_phones(store)
    result = await store.claim(pity_lottery(0.99), NOW)
    assert result.outcome == 2
    assert (await last_draw(store))["pity"] is False
    assert await store.pity(SCOPE, "p:u1") == 3
    # Phones are back (a new version raised the stock): the guarantee is still due.
    more = limit("s:phone", 11, "out_of_stock")
    assert (await store.claim(pity_lottery(0.99, phone_stock=more), NOW)).outcome == 0
    assert await store.pity(SCOPE, "p:u1") == 0


async def test_winning_the_guaranteed_prize_by_chance_resets_pity(store: CounterStore) -> None:
    await store.claim(pity_lottery(0.99, after=5), NOW)
    await store.claim(pity_lottery(0.99, after=5), NOW)
    await store.claim(pity_lottery(0.0, after=5), NOW)
    assert (await last_draw(store))["pity"] is False
    assert await store.pity(SCOPE, "p:u1") == 0


async def test_a_weight_zero_prize_is_won_only_by_guarantee(store: CounterStore) -> None:
    outcomes = [outcome("golden", 0), outcome("otherwise", 1)]
    step = lottery(draw(0.0, guarantee=0, after=1), outcomes)
    assert [(await store.claim(step, NOW)).outcome for _ in range(4)] == [1, 0, 1, 0]


async def test_without_a_guarantee_no_pity_is_counted(store: CounterStore) -> None:
    await store.claim(lottery(draw(0.99)), NOW)
    assert await store.pity(SCOPE, "p:u1") == 0
