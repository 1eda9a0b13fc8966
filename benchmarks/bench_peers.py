"""promo-engine in the peer rule-engine harness (issue #5): the shared bench in
../shared/bench runs several engines on one workload (50 campaigns, 336 conditions,
5,000 contexts), checks every engine's answers against its reference, then times them
interleaved in one process. This script runs it with our adapter
(`benchmarks/peer_adapter.py`), reads the results file it writes, and puts our row and
the goals in the section `peers` of docs/performance.md.

Goals, as ratios measured in the same run: promo-engine at most 1.25x the time of
`python-fused` (the harness's generated-Python ceiling), and at least 3x faster than
`zen expr batched` (zen-engine's expression language, one call for all 50 rules).

    .venv/bin/python benchmarks/bench_peers.py [--bench DIR] [--venv DIR]

Exits non-zero when the harness fails or any adapter fails its correctness gate.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import stamp, write_section

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
VENV = Path("/tmp/peervenv")
ADAPTERS = "python-fused,zen expr batched,promo"  # python-lambda, the reference, always runs
FUSED, ZEN, OURS, REFERENCE = "python-fused", "zen expr batched", "promo-engine", "python-lambda"
HEADER = (
    "| adapter | ns/ctx (median) | time vs python-fused | zen batched / this | fixed overhead "
    "| spread ns/ctx (min-max) | gate |\n|---|---|---|---|---|---|---|"
)
FUSED_GOAL = 1.25  # ours / fused at most
ZEN_GOAL = 3.0  # zen / ours at least
CLOSE = 0.05  # a goal met or missed by less than this is within the drift between runs


@dataclass
class Row:
    adapter: str
    ns: float  # median ns per context
    spread: str  # min-max ns per context
    overhead: str  # the fixed overhead column as the harness writes it, "-" when absent


@dataclass
class Gate:
    adapter: str
    checked: int
    mismatches: int
    result: str


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(text: str, heading: str) -> list[dict[str, str]]:
    """The markdown table under `## heading...` as dicts keyed by the header cells."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"## {heading}")), None)
    if start is None:
        raise SystemExit(f"bench_peers: no section '{heading}' in the harness's results")
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if header is not None:
                break
            continue
        cells = _cells(line)
        if header is None:
            header = cells
        elif not all(set(c) <= set("-: ") for c in cells):
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_results(text: str) -> tuple[list[Row], list[Gate]]:
    rows = [
        Row(
            r["adapter"],
            _number(r["ns/ctx (median)"]),
            r.get("spread ns/ctx (min-max)", "?"),
            r.get("fixed overhead/ctx", "-"),
        )
        for r in _table(text, "Throughput")
    ]
    gates = [
        Gate(r["adapter"], int(r["contexts checked"]), int(r["mismatches"]), r["result"])
        for r in _table(text, "Correctness gate")
    ]
    return rows, gates


def ensure_venv(bench: Path, venv: Path) -> None:
    """The harness's venv, with orjson (our dependency the peers do not bring)."""
    python = venv / "bin" / "python"
    env = {**os.environ, "PEERVENV": str(venv)}
    if not python.exists():
        print(f"bench_peers: {venv} is missing: ./run.sh setup", flush=True)
        subprocess.run([str(bench / "run.sh"), "setup"], cwd=bench, env=env, check=True)
    if subprocess.run([str(python), "-c", "import orjson"], capture_output=True).returncode:
        print("bench_peers: installing orjson into the harness venv", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "orjson"], check=True)


def run_harness(bench: Path, venv: Path, out: Path) -> int:
    command = [
        str(bench / "run.sh"),
        "peers",
        "--project-path", str(ROOT),
        "--adapter-file", str(ROOT / "benchmarks" / "peer_adapter.py"),
        "--only", ADAPTERS,
        "--out", str(out),
        "--no-generated",
    ]  # fmt: skip
    print("bench_peers:", " ".join(command), flush=True)
    env = {**os.environ, "PEERVENV": str(venv)}
    return subprocess.run(command, cwd=bench, env=env).returncode


def _find(rows: list[Row], prefix: str) -> Row:
    for row in rows:
        if row.adapter.startswith(prefix):
            return row
    raise SystemExit(f"bench_peers: no row '{prefix}' in the harness's results")


def render(rows: list[Row], gates: list[Gate], load: str) -> tuple[str, bool]:
    """The section body, and whether every gate passed."""
    fused, zen, ours = _find(rows, FUSED), _find(rows, ZEN), _find(rows, OURS)
    vs_fused = ours.ns / fused.ns
    zen_over_ours = zen.ns / ours.ns
    gate_ok = all(g.result == "PASS" and g.mismatches == 0 for g in gates) and bool(gates)
    ours_gate = next((g for g in gates if g.adapter.startswith(OURS)), None)
    total = max((g.checked for g in gates), default=0)
    table = []
    for row in sorted(rows, key=lambda r: r.ns):
        gate = next((g for g in gates if g.adapter == row.adapter), None)
        gate_text = (
            f"{gate.result}, {gate.checked - gate.mismatches} of {gate.checked}" if gate else "?"
        )
        table.append(
            f"| {row.adapter} | {row.ns:,.0f} | {row.ns / fused.ns:.2f}x | "
            f"{zen.ns / row.ns:.2f}x | {row.overhead} | {row.spread} | {gate_text} |"
        )
    fused_verdict = "meets" if vs_fused <= FUSED_GOAL else "misses"
    zen_verdict = "meets" if zen_over_ours >= ZEN_GOAL else "misses"
    ours_gate_text = (
        f"{ours_gate.checked - ours_gate.mismatches} of {ours_gate.checked}"
        if ours_gate
        else "no gate row"
    )
    body = f"""## Peers: promo-engine in the shared rule-engine harness

{stamp()} `benchmarks/bench_peers.py` runs `../shared/bench/run.sh peers` with our adapter
(`benchmarks/peer_adapter.py`), python-fused and zen expr batched (`--only
'{ADAPTERS}'`; python-lambda, the reference, always runs). The workload is 50
campaigns of 336 conditions over 5,000 contexts; every adapter's eligible ids must equal
the reference's on all of them before any timing. Then all adapters are timed in one
process, interleaved, 5 rounds; the figure is the median ns per context (all 50 rules).
Our timed call starts from our API's JSON form of the context (money as strings,
converted once and untimed from the workload's floats) and does everything
`Engine.evaluate` does before pricing: validation and conversion to minor units, binding
of declared attributes, the window, schedule and pause checks, and the generated rule
checks. Nothing converted is cached across contexts: money texts are converted on every
call, and the workload has no date-time or IP, the only texts `engine/context.py`
remembers (see the adapter's docstring). Fixed overhead: the same call on a one-campaign
ruleset whose rule is `true`, as the harness measures it. Load average before the run:
{load}.

{HEADER}
{chr(10).join(table)}

Correctness gate: promo-engine returned the reference's ids on {ours_gate_text} contexts;
{"every adapter passed" if gate_ok else "**a gate FAILED**"} ({total} contexts each).

- Goal 1, at most {FUSED_GOAL}x python-fused's time: this run **{fused_verdict}** it
  ({vs_fused:.2f}x: {ours.ns:,.0f} ns against {fused.ns:,.0f} ns).
- Goal 2, at least {ZEN_GOAL:.0f}x faster than zen expr batched: this run **{zen_verdict}** it
  ({zen_over_ours:.2f}x: {zen.ns:,.0f} ns against our {ours.ns:,.0f} ns).
{_margin(vs_fused / FUSED_GOAL, zen_over_ours / ZEN_GOAL)}{_where(ours, fused)}"""
    return body, gate_ok


def _margin(*ratios: float) -> str:
    """A warning when a goal is decided by less than the run-to-run drift of the ratios."""
    if all(abs(r - 1) >= CLOSE for r in ratios):
        return ""
    return f"""
A goal above is decided by less than {CLOSE:.0%}: ratios drift about that much between
runs on this shared machine (see the min-max column), so another run may land on the
other side of it.
"""


def _where(ours: Row, fused: Row) -> str:
    """Where our time goes, from the fixed-overhead column of the same run."""
    match = re.fullmatch(r"([\d.,]+) us", ours.overhead)
    if match is None:
        return ""
    fixed = _number(match.group(1))  # us, as the harness rounds it
    rules = ours.ns / 1000 - fixed
    return f"""
Where our time goes: the fixed overhead ({fixed:.1f} us: the same call on a one-campaign
ruleset whose rule is `true`) is the per-context work that does not depend on the
rules: the adapter finding the context's JSON form, validation of the whole context,
money to integer minor units, the Item and Context objects, binding of declared
attributes, the window checks. It is {fixed * 1000 / fused.ns:.2f}x python-fused's whole
time, and python-fused does none of it (it reads the harness's dict as it is). The
difference of the two medians, about {rules:.1f} us, is the 50 rules and the selection of
the passing campaigns.
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bench", type=Path, default=BENCH, help="the harness folder")
    parser.add_argument("--venv", type=Path, default=VENV, help="the harness's venv")
    opts = parser.parse_args()
    ensure_venv(opts.bench, opts.venv)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peers.md"
        code = run_harness(opts.bench, opts.venv, out)
        if not out.exists():
            print(f"bench_peers: the harness wrote no results (exit {code})", file=sys.stderr)
            return 1
        text = out.read_text(encoding="utf-8")
    if re.search(r"^\| promo-engine", text, re.MULTILINE) is None:
        print("bench_peers: promo-engine has no row: was the adapter skipped?", file=sys.stderr)
        print(text, file=sys.stderr)
        return 1
    rows, gates = parse_results(text)
    body, gate_ok = render(rows, gates, load)
    write_section("peers", body)
    print(body)
    if code != 0 or not gate_ok:
        print(f"bench_peers: harness exit {code}, gates passed: {gate_ok}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
