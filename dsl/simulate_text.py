"""`promo simulate` in words and tables (engine/simulate.py adds the answers up)."""

from __future__ import annotations

from decimal import Decimal

from rich import box
from rich.console import Console
from rich.table import Table

from engine.simulate import Run

_REASONS_SHOWN = 3


def _share(part: int | Decimal, whole: int | Decimal) -> str:
    return f"{100 * Decimal(part) / Decimal(whole):.1f}%" if whole else "-"


def _print(out: Console, table: Table) -> None:
    """A table as wide as it needs: never a truncated id or amount, piped or not."""
    needed = out.measure(table, options=out.options.update_width(10_000)).maximum
    if needed <= out.width:
        out.print(table)
        return
    # Console.print never renders wider than its console: a console of the needed width,
    # on the same output.
    wide = Console(
        file=out.file, width=needed, highlight=False, force_terminal=out.is_terminal,
        color_system=out.color_system,  # type: ignore[arg-type]
    )  # fmt: skip
    wide.print(table)


def render_text(run: Run, out: Console) -> None:
    sim, money = run.simulation, run.currency
    out.print(
        f"{sim.carts:,} carts evaluated at {run.at}, {run.files} rule "
        f"file{'' if run.files == 1 else 's'}, {money}; nothing claimed (an empty store)",
        markup=False,
    )
    out.print(
        f"with a discount, gift or points: {sim.discounted:,} "
        f"({_share(sim.discounted, sim.carts)}); "
        f"discounts {sim.discount:,} {money} of {sim.listed:,} listed "
        f"({_share(sim.discount, sim.listed)}); shoppers pay {sim.paid:,}",
        markup=False,
    )
    if not sim.campaigns:
        return
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", title="campaigns")
    for name in ("campaign", "applied", "of carts", f"discount {money}", "per applied cart",
                 "gifts", "points", "nudged"):  # fmt: skip
        table.add_column(name, justify="left" if name == "campaign" else "right")
    for campaign, t in sorted(sim.campaigns.items()):
        if not (t.applied or t.nudged):
            continue
        per_cart = f"{t.discount / t.applied:,.2f}" if t.applied else "-"
        table.add_row(
            campaign, f"{t.applied:,}", _share(t.applied, sim.carts), f"{t.discount:,}", per_cart,
            f"{t.gifts:,}", f"{t.points:,}", f"{t.nudged:,}",
        )  # fmt: skip
    _print(out, table)
    claims = Table(box=box.SIMPLE_HEAD, title_justify="left",
                   title="claimable rewards (limits, stock and budgets not used up)")  # fmt: skip
    for name in ("campaign", "reward", "could claim", "of carts"):
        claims.add_column(name, justify="right" if name.endswith(("claim", "carts")) else "left")
    for campaign, t in sorted(sim.campaigns.items()):
        for reward in sorted(t.claimable):
            could = t.available[reward]
            claims.add_row(campaign, reward or "(draw)", f"{could:,}", _share(could, sim.carts))
    if claims.row_count:
        _print(out, claims)
    if sim.claimed:
        _print(out, _claims_table(run))
    reasons = Table(box=box.SIMPLE_HEAD, title_justify="left",
                    title="why not: the most frequent reasons per campaign")  # fmt: skip
    for name in ("campaign", "reason", "carts"):
        reasons.add_column(name, justify="right" if name == "carts" else "left")
    for campaign, t in sorted(sim.campaigns.items()):
        for reason, count in t.reasons.most_common(_REASONS_SHOWN):
            reasons.add_row(campaign, reason, f"{count:,}")
    if reasons.row_count:
        _print(out, reasons)


def _claims_table(run: Run) -> Table:
    sim, money = run.simulation, run.currency
    title = "claims: every reward offered, claimed by its shopper in file order"
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", title=title)
    for name in ("campaign", "issued", "by reward", f"face value {money}", "stock left",
                 "budget left", "refused"):  # fmt: skip
        table.add_column(name, justify="right" if name in ("issued",) else "left")
    for campaign, c in sim.counters.items():
        by_reward = ", ".join(f"{r} {n:,}" for r, n in c["issued_by_reward"].items() if n)
        stock = ", ".join(f"{s['reward']} {s['left']:,}/{s['limit']:,}" for s in c["stock"])
        budget = ", ".join(f"{b['level']} {b['left']}/{b['limit']}" for b in c["budget"])
        refused = ", ".join(f"{r} {n:,}" for r, n in c["rejections"].items())
        table.add_row(campaign, f"{c['issued']:,}", by_reward or "-", c["face_value_issued"],
                      stock or "-", budget or "-", refused or "-")  # fmt: skip
    return table
