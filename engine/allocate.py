"""The line bound and allocation (LANGUAGE.md 9.2, 10.1 steps 5-6).

Within a stage the chosen discounts are taken off the lines in evaluation order: each is
lowered to what is left on its applicable lines (its room), removed when that is zero,
and split over those lines by largest remainder with the amounts left as weights. Free
shipping waits for the shipping stage, where it is taken off the fee the same way.
Nothing ever goes below zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.money import split
from engine.select import Discount

Allocation = tuple[Discount, int]
"""A part of a chosen discount taken off one line (or the fee), in minor units."""


def allocate_stage(
    chosen: Sequence[Discount],
    left: list[int],
    allocations: list[list[Allocation]],
    discounts: list[Discount],
    shipping_queue: list[Discount],
) -> list[Discount]:
    """Bound and allocate a stage's chosen discounts (in evaluation order). `left[i]` is
    what line `i` still costs and is lowered in place; kept discounts are appended to
    `discounts`, free shipping to `shipping_queue`. Returns the removed ones (outranked)."""
    removed: list[Discount] = []
    for discount in chosen:
        if discount.free_shipping:
            shipping_queue.append(discount)
            continue
        amount = discount.amount
        if amount:
            lines = discount.lines
            room = 0
            for i in lines:
                room += left[i]
            if amount >= room:
                if room == 0:
                    removed.append(discount)
                    continue
                # It takes all that is left on its lines: the split would give each line
                # exactly its amount left, so no split is needed.
                discount.amount = room
                for i in lines:
                    share = left[i]
                    if share:
                        left[i] = 0
                        allocations[i].append((discount, share))
            elif len(lines) == 1:
                i = lines[0]
                left[i] -= amount
                allocations[i].append((discount, amount))
            else:
                weights = [left[i] for i in lines]
                for i, share in zip(lines, split(amount, weights), strict=True):
                    # A line with nothing left, or a share that rounds to nothing, gets none.
                    if share:
                        left[i] -= share
                        allocations[i].append((discount, share))
        # A gift or points discount (amount 0) stays, with no allocation.
        discounts.append(discount)
    return removed


def ship(
    queue: Sequence[Discount], fee: int, discounts: list[Discount]
) -> tuple[int, list[Allocation], list[Discount]]:
    """The shipping stage: free-shipping discounts in stage order, then evaluation order,
    each lowered to the fee left. Returns (fee left, allocations, removed)."""
    allocations: list[Allocation] = []
    removed: list[Discount] = []
    for discount in queue:
        amount = discount.amount
        if amount:
            if amount > fee:
                if fee == 0:
                    removed.append(discount)
                    continue
                amount = discount.amount = fee
            fee -= amount
            allocations.append((discount, amount))
        # Free shipping of a cart without a fee stays at 0, so the storefront can show it.
        discounts.append(discount)
    return fee, allocations, removed
