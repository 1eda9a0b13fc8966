"""`make bench`: run every benchmark, one after the other, each rewriting its own section
of docs/performance.md. A benchmark that fails is reported and the others still run; the
exit status says whether all of them ran.

    .venv/bin/python benchmarks/run_all.py [--only compile,http] [--list]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Name -> (script, arguments, what it measures). Ordered from quick to long.
BENCHMARKS: dict[str, tuple[str, list[str], str]] = {
    "compile": ("bench_compile.py", [], "check + compile of 500 campaigns (issue #2)"),
    "evaluate": ("bench_evaluate.py", [], "full evaluate of the sale-day ruleset (issue #3)"),
    "claims": ("bench_claims.py", [], "claims/s through the engine vs bare EVALSHA (issue #3)"),
    "http": ("bench_http.py", [], "the HTTP claim route vs a bare FastAPI endpoint (issue #5)"),
    "peers": ("bench_peers.py", [], "promo-engine in the peer rule-engine harness (issue #5)"),
    "sale_day": (
        "bench_sale_day.py",
        [],
        "the mixed sale-day scenario, latency vs load (issue #5)",
    ),
    "probe": ("probe_latency.py", [], "evaluate latency from a plain client: sale day's control"),
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated names of the benchmarks to run")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    opts = parser.parse_args()
    if opts.list:
        for name, (script, _, what) in BENCHMARKS.items():
            print(f"{name:10} {script:22} {what}")
        return 0
    names = opts.only.split(",") if opts.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; see --list")
    failed = []
    for name in names:
        script, args, what = BENCHMARKS[name]
        print(f"\n== {name}: {what}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent)
        took = time.monotonic() - started
        if result.returncode != 0:
            failed.append(name)
            print(f"== {name} FAILED (exit {result.returncode}) after {took:.0f} s", flush=True)
        else:
            print(f"== {name} done in {took:.0f} s", flush=True)
    print(
        f"\n{len(names) - len(failed)} of {len(names)} benchmarks ran; docs/performance.md updated."
    )
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
