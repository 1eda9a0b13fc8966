"""The HTTP claim path against a bare FastAPI endpoint (issue #5), under one load generator
in one run: wrk, one thread, 64 connections, keep-alive.

- ours: `promo serve` (one worker, uvloop + httptools) on a real redis-server, with API
  keys, so that each request pays for auth, validation, the rule checks and one Redis
  script (every request claims for a new user with its own Idempotency-Key);
- bare: benchmarks/http_bare.py on the same uvicorn, parsing a body of the same shape with
  pydantic and answering JSON.

Goal: ours at least 1.0x the bare endpoint's requests/s, with a p99 no worse.

    .venv/bin/python benchmarks/bench_http.py [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import median, stamp, write_section  # noqa: E402
from tests.redis_server import free_port, start_redis  # noqa: E402

BIN = Path(sys.executable).parent
KEY = "bench-storefront-key"


class Server:
    """A server process started and stopped by its pid, ready when `path` answers."""

    def __init__(self, args: list[str], port: int, env: dict[str, str]) -> None:
        self.port = port
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait(self, path: str, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise SystemExit(f"server exited early:\n{err[-2000:]}")
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.port}{path}", headers=headers or {}
                )
                with urllib.request.urlopen(request, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"server on port {self.port} did not get ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_ours(redis_url: str) -> Server:
    port = free_port()
    env = {**os.environ, "PROMO_API_KEYS": f"storefront:{KEY},operator:{KEY}-op"}
    args = [str(BIN / "promo"), "serve", "benchmarks/rules", "--store", redis_url,
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    server = Server(args, port, env)
    server.wait("/readyz")
    return server


def start_bare() -> Server:
    port = free_port()
    args = [str(BIN / "uvicorn"), "benchmarks.http_bare:app", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning"]  # fmt: skip
    server = Server(args, port, dict(os.environ))
    server.wait("/docs-missing") if False else time.sleep(1.5)
    return server


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0.0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, seconds: int, run: str, pids: dict[str, int] | None = None) -> dict[str, float]:
    """One wrk run; with `pids`, also the CPU each of those processes spent per request."""
    env = {**os.environ, "PROMO_BENCH_KEY": KEY, "PROMO_BENCH_RUN": run}
    script = str(Path(__file__).with_name("http_claim.lua"))
    args = ["wrk", "-t1", "-c64", f"-d{seconds}s", "--latency", "-s", script,
            f"http://127.0.0.1:{port}"]  # fmt: skip
    before = {name: cpu_seconds(pid) for name, pid in (pids or {}).items()}
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout
    result = _parse_wrk(out)
    requests = max(result["rps"] * seconds, 1.0)
    for name, pid in (pids or {}).items():
        result[f"cpu_{name}"] = (cpu_seconds(pid) - before[name]) / requests * 1e6
    return result


def _parse_wrk(out: str) -> dict[str, float]:
    def millis(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if m is None:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": millis("50"), "p90": millis("90"), "p99": millis("99"),
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each timed run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per server, alternating")
    opts = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: sudo apt-get install -y wrk")
    results: dict[str, list[dict[str, float]]] = {"bare": [], "ours": []}
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        redis = start_redis()
        stack.callback(redis.stop)
        servers = {"ours": start_ours(redis.url), "bare": start_bare()}
        for server in servers.values():
            stack.callback(server.stop)
        for name, server in servers.items():  # warm-up: imports, caches, connection pools
            wrk(server.port, 2, f"warm-{name}")
        pids = {
            "ours": {"server": servers["ours"].process.pid, "redis": redis.pid},
            "bare": {"server": servers["bare"].process.pid},
        }
        for run in range(opts.runs):
            order = ["bare", "ours"] if run % 2 == 0 else ["ours", "bare"]
            for name in order:
                port = servers[name].port
                results[name].append(wrk(port, opts.seconds, f"{name}-{run}", pids[name]))
    body = _report(results, opts.seconds, (load_before, os.getloadavg()[0]))
    write_section("http", body)
    print(body)


_HEADER = (
    "| server | req/s (median run) | req/s runs | p50 ms | p90 ms | p99 ms "
    "| server CPU us/req | Redis CPU us/req | non-2xx |\n|---|---|---|---|---|---|---|---|---|"
)


def _report(
    results: dict[str, list[dict[str, float]]], seconds: int, load: tuple[float, float]
) -> str:
    def row(name: str, label: str) -> str:
        runs = results[name]
        best = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        all_rps = ", ".join(f"{r['rps']:,.0f}" for r in runs)
        bad = sum(int(r["non2xx"]) for r in runs)
        server = median([r.get("cpu_server", 0.0) for r in runs])
        redis = median([r["cpu_redis"] for r in runs]) if "cpu_redis" in runs[0] else None
        shown = f"{redis:.0f}" if redis is not None else "-"
        return (f"| {label} | {best['rps']:,.0f} | {all_rps} | {best['p50']:.2f} | "
                f"{best['p90']:.2f} | {best['p99']:.2f} | {server:.0f} | {shown} | "
                f"{bad} |")  # fmt: skip

    ours = median([r["rps"] for r in results["ours"]])
    bare = median([r["rps"] for r in results["bare"]])
    p99_ours = median([r["p99"] for r in results["ours"]])
    p99_bare = median([r["p99"] for r in results["bare"]])
    verdict = (
        "meets both goals"
        if ours >= bare and p99_ours <= p99_bare
        else f"misses: ours is {ours / bare:.2f}x the bare endpoint's requests/s, "
        f"p99 {p99_ours:.1f} ms against {p99_bare:.1f} ms"
    )
    return f"""## HTTP: the claim route against a bare FastAPI endpoint

{stamp()} `benchmarks/bench_http.py`: wrk -t1 -c64 -d{seconds}s --latency, keep-alive, after a
2 s warm-up; {len(results["ours"])} runs per server, alternating; one uvicorn worker each
(uvloop, httptools). Ours: `promo serve benchmarks/rules --workers 1` on a redis-server
started for the run, with API keys; every request claims for a new user with its own
Idempotency-Key (auth, validation, rules, one Redis script). Bare: `benchmarks/http_bare.py`,
a pydantic body of the same shape and a JSON answer. Load generator, server and Redis share
the machine's 2 cores; wrk is closed-loop, so latencies understate an open-loop client's.
CPU per request is each process's user + system time over the run (/proc), medians of the
runs: ours needs its worker's and Redis's, so it loses more than the bare endpoint when
other processes take a core. The machine's load average (1 min) was {load[0]:.1f} before
the runs and {load[1]:.1f} after.

Ratio ours / bare: **{ours / bare:.2f}x** requests/s; p99 {p99_ours:.1f} ms against
{p99_bare:.1f} ms. This run {verdict}.

{_HEADER}
{row("ours", "promo serve: POST /v1/claims")}
{row("bare", "bare FastAPI + pydantic")}
"""


if __name__ == "__main__":
    main()
