"""The `promo` command: check, format and explain rule files, run the conformance cases,
and serve the engine over HTTP.

Exit status everywhere: 0 when all is well, 1 when the input has errors (or a case
fails, or `fmt --check` would change a file), 2 when the command could not run (bad
usage, a missing file, a store it cannot reach).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from dsl.sources import Source, SourceError, find_sources, read_source

app = typer.Typer(
    name="promo",
    help=(
        "promo-engine: promotion rules compiled to fast evaluators.\n\n"
        "Write campaigns in .promo files, then: `promo check` them, `promo fmt` them, "
        "`promo explain` what they do, `promo simulate` them on a sample of carts, and "
        "`promo serve` them over HTTP."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and an exit: bad input never shows a traceback."""
    err.print(f"promo: error: {message}", markup=False)
    raise typer.Exit(code)


def _read_sources(paths: list[Path]) -> list[Source]:
    """The rule files named or found under `paths`, read; a bad path is one line and exit 2."""
    try:
        return [read_source(p) for p in find_sources(paths)]
    except SourceError as exc:
        fail(str(exc))


def _check_format(output_format: str) -> None:
    if output_format not in ("text", "json"):
        fail(f"unknown format '{output_format}'; use text or json")


PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Rule files, or folders searched recursively for *.promo files.", show_default=False
    ),
]


@app.command()
def check(
    paths: PathsArg,
    output_format: Annotated[
        str, typer.Option("--format", help="`text` (one line per diagnostic) or `json`.")
    ] = "text",
) -> None:
    """Check rule files: every error and warning, sorted by position.

    Diagnostics read `FILE:LINE:COLUMN: error: MESSAGE`; on a terminal each is followed by
    the source line with a caret under the mistake. The files are also checked together,
    as `promo serve` would load them: a campaign id may be declared in one file only.

    Examples:

        promo check examples/

        promo check --format json double11.promo
    """
    from dsl.checking import check_files

    _check_format(output_format)
    sources = _read_sources(paths)
    report = check_files(sources)
    if output_format == "json":
        out.print_json(data=report.to_json())
    else:
        pretty = sys.stdout.isatty()
        for diagnostic, source in report.items():
            out.print(diagnostic.render(source) if pretty else diagnostic.format(), markup=False)
        err.print(report.summary(), markup=False)
    raise typer.Exit(1 if report.error_count else 0)


@app.command()
def fmt(
    paths: PathsArg,
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; list the files that would change.")
    ] = False,
) -> None:
    """Format rule files in the one canonical layout, keeping every comment.

    Formatting never changes what a file means (its compiled rules are identical) and is
    idempotent. With --check, exits 1 and lists the files it would change.
    """
    from dsl.errors import RuleError
    from dsl.fmt import format_source

    sources = _read_sources(paths)
    changed = failed = 0
    for source in sources:
        try:
            formatted = format_source(source.text, str(source.path))
        except RuleError as exc:  # a file that does not parse is left as it is
            err.print(f"{exc.diagnostics[0].format()} (not formatted)", markup=False)
            failed += 1
            continue
        if formatted != source.text:
            changed += 1
            if check_only:
                out.print(f"would reformat {source.path}", markup=False)
            else:
                source.path.write_text(formatted, encoding="utf-8")
                out.print(f"reformatted {source.path}", markup=False)
    raise typer.Exit(1 if failed or (check_only and changed) else 0)


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="The rule file to explain.", show_default=False)],
    output_format: Annotated[str, typer.Option("--format", help="`text` or `json`.")] = "text",
) -> None:
    """Explain a rule file in plain words, then analyse it before launch.

    For each campaign: tier and goal, window and schedule in local time, who is eligible
    and who is denied, rewards and their face values, limits, stock, budget, group and
    priority. Then: unreachable or non-increasing tiers, campaigns that can never win
    their group, claimable campaigns without any limit, stock or budget, and the
    worst-case discount on one cart.
    """
    from dsl.compiler import compile_text
    from dsl.errors import RuleError
    from dsl.explain import explain_json, explain_text

    _check_format(output_format)
    try:
        source = read_source(file)
    except SourceError as exc:
        fail(str(exc))
    try:
        compiled, _ = compile_text(source.text, str(source.path))
    except RuleError as exc:
        for d in exc.errors:
            err.print(d.format(), markup=False)
        raise typer.Exit(1) from None
    if output_format == "json":
        out.print_json(data=explain_json(compiled, source.text))
    else:
        out.print(explain_text(compiled, source.text), markup=False, emoji=False)


@app.command()
def simulate(
    paths: PathsArg,
    carts: Annotated[
        Path,
        typer.Option(
            help='JSON Lines: one evaluate request ({"context": ...}) or one context per line.',
            show_default=False,
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            help="The instant to simulate, with its UTC offset (2026-11-11T20:00:00+08:00); "
            "default: now."
        ),
    ] = None,
    claim: Annotated[
        bool,
        typer.Option(
            "--claim",
            help="Also claim every reward offered to each cart's shopper, in file order.",
        ),
    ] = False,
    output_format: Annotated[str, typer.Option("--format", help="`text` or `json`.")] = "text",
) -> None:
    """Simulate rule files on a sample of carts before launch: what would each campaign do?

    Every cart is evaluated at one instant on an embedded store that starts empty. For
    each campaign: the carts it applies to, the discount it gives in all and per cart,
    gifts and points, the carts it nudges towards a better tier, how many shoppers could
    claim each reward, and why it does not apply to the rest.

    By default nothing is claimed, so limits, stock and budgets stay untouched. With
    --claim, each cart's shopper also claims every reward offered, in file order, so that
    they run down: the report then adds each claimable campaign's counters (issued,
    stock left, budget spent, refusals by reason) and the face value issued.

    Lines that are not valid requests are skipped and listed with their numbers (exit
    status 1); the others still count.

    Examples:

        promo simulate examples/ --carts carts.jsonl --at 2026-11-11T20:00:00+08:00

        promo simulate singles_day.promo --carts carts.jsonl --claim --format json
    """
    import asyncio

    from dsl.simulate_text import render_text
    from engine.simulate import SimulateError, run_simulation

    _check_format(output_format)
    sources = _read_sources(paths)
    try:
        run = asyncio.run(run_simulation(sources, carts, at, claim=claim, progress=err))
    except SimulateError as exc:
        for line in exc.lines:
            err.print(line, markup=False)
        raise typer.Exit(exc.code) from None
    if output_format == "json":
        out.print_json(data=run.to_json())
    else:
        render_text(run, out)
    for skipped in run.simulation.skipped[:10]:
        err.print(f"{carts}:{skipped.line}: skipped: {skipped.reason}", markup=False)
    if len(run.simulation.skipped) > 10:
        err.print(f"... and {len(run.simulation.skipped) - 10} more lines skipped", markup=False)
    raise typer.Exit(1 if run.simulation.skipped else 0)


@app.command()
def cases(
    directory: Annotated[
        Path, typer.Argument(help="Folder of *.yaml conformance cases.", show_default=False)
    ],
    store: Annotated[
        str,
        typer.Option(help="`memory`, or a Redis URL such as redis://127.0.0.1:6379/0."),
    ] = "memory",
) -> None:
    """Run the conformance cases (../shared/spec/CASES.md) on a store.

    Each case runs on an empty store (on Redis, under its own key prefix, removed
    afterwards). Prints one FAIL line per failing case, then `N passed, M failed`.
    """
    import asyncio

    from engine.cases import CaseResult, run_cases, summary
    from engine.store import StoreUnavailable

    if not directory.is_dir():
        fail(f"{directory}: no such directory")

    def report(result: CaseResult) -> None:
        if result.failure is not None:
            out.print(f"FAIL {result.file} [{result.name}]: {result.failure}", markup=False)

    try:
        results = asyncio.run(run_cases(directory, store, report))
    except StoreUnavailable as exc:
        fail(f"cannot reach the store {store}: {exc}")
    except ValueError as exc:
        fail(str(exc))
    out.print(summary(results), markup=False)
    raise typer.Exit(1 if any(r.failure for r in results) else 0)


@app.command()
def serve(
    rules_dir: Annotated[
        Path, typer.Argument(help="Folder of *.promo files to serve.", show_default=True)
    ] = Path("examples"),
    store: Annotated[
        str, typer.Option(help="`memory`, or a Redis URL such as redis://127.0.0.1:6379/0.")
    ] = "memory",
    host: Annotated[
        str, typer.Option(help="Address to bind; without API keys, loopback only.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (more than 1 needs Redis).")] = 1,
    watch: Annotated[
        bool, typer.Option("--watch", help="Reload a rule file when it changes.")
    ] = False,
    rehearse: Annotated[
        str | None,
        typer.Option(
            help="Start the engine clock at this instant (2026-11-11T09:59:50+08:00), "
            "ticking in real time: rehearse a sale day."
        ),
    ] = None,
) -> None:
    """Serve the rules over HTTP: the storefront and operator APIs (docs/api.md).

    API keys come from PROMO_API_KEYS="storefront:KEY,operator:KEY2". Without keys the
    service runs in an open local mode, and only on a loopback address.

    Examples:

        promo serve examples/

        PROMO_API_KEYS=... promo serve rules/ --host 0.0.0.0 --workers 4 --store redis://r:6379/0
    """
    from api.serve import Options, ServeError, run

    options = Options(rules_dir, store, host, port, workers, watch, rehearse)
    try:
        run(options)
    except ServeError as exc:
        fail(str(exc), exc.code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
