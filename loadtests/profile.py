"""Profile the service's workers with py-spy while the load runs, and say where the time
went (`python -m loadtests.run --profile 20`, benchmarks/bench_sale_day.py).

py-spy samples each worker from outside (`--nonblocking`: the worker is never paused)
and writes collapsed stacks, one `frame;frame;... count` line per distinct stack.
`hotspots` adds them up by the innermost frame (self time) and by the first frame of
each file group (where a request spends its time: HTTP server, app, engine, Redis).
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loadtests.processes import Child

# The first group whose folder a frame's file is in names the frame (py-spy writes paths
# relative to sys.path: `evaluate (engine/evaluate.py:120)`).
GROUPS = (
    ("engine/store/", "engine: store client (RedisStore, keys)"),
    ("engine/", "engine: evaluate, claim, redeem"),
    ("dsl/", "compiled rules and context (dsl)"),
    ("api/", "service routes and middleware (api)"),
    ("redis/", "redis-py"),
    ("pydantic", "pydantic"),
    ("starlette/", "Starlette"),
    ("fastapi/", "FastAPI"),
    ("uvicorn/", "uvicorn (HTTP parsing, ASGI)"),
    ("prometheus_client/", "prometheus_client"),
    ("asyncio/", "asyncio (streams, tasks)"),
)


_ROOT = str(Path(__file__).resolve().parents[1]) + "/"


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


def workers(service_pid: int) -> list[int]:
    """The uvicorn worker processes of `promo serve` (its children started by
    multiprocessing's spawn; not the resource tracker)."""
    found = []
    for task in Path(f"/proc/{service_pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(int(pid))
    return sorted(found) or [service_pid]


def record(pids: list[int], seconds: float, out_dir: Path) -> list[Path]:
    """Sample every pid for `seconds` at once; the collapsed-stack files written."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for pid in pids:
        out = out_dir / f"py-spy-{pid}.txt"
        cmd = [
            binary, "record", "--pid", str(pid), "--duration", str(round(seconds)),
            "--rate", "200", "--format", "raw", "--nonblocking", "--output", str(out),
        ]  # fmt: skip
        runs.append((Child(f"py-spy {pid}", cmd, out_dir / f"py-spy-{pid}.log"), out))
    for child, _ in runs:
        if child.wait(seconds + 30) is None:
            child.stop(5)
    return [out for _, out in runs if out.exists()]


@dataclass
class Hotspots:
    samples: int
    by_group: list[tuple[str, float]]  # share of samples whose innermost frame is there
    by_function: list[tuple[str, float]]  # share of samples with the function innermost
    inclusive: list[tuple[str, float]]  # share of samples inside a function of the project


_PROJECT = ("api/", "engine/", "dsl/")
_LAUNCH = ("dsl/cli.py", "api/serve.py")  # `promo serve` itself: under every sample


def hotspots(files: list[Path], top: int = 15) -> Hotspots:
    groups: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    total = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = [_short(frame) for frame in stack.split(";")]
            functions[frames[-1]] += count
            groups[_group(frames[-1])] += count
            for name in {f for f in frames if _in_project(f)}:
                inside[name] += count
    share = 1 / total if total else 0.0
    return Hotspots(
        total,
        [(name, n * share) for name, n in groups.most_common()],
        [(name, n * share) for name, n in functions.most_common(top)],
        [(name, n * share) for name, n in inside.most_common(top)],
    )


def _in_project(frame: str) -> bool:
    where = frame.partition(" (")[2]
    return where.startswith(_PROJECT) and not where.startswith(_LAUNCH)


def _group(frame: str) -> str:
    where = frame.partition(" (")[2]
    return next((name for part, name in GROUPS if where.startswith(part)), "other (stdlib)")


def _short(frame: str) -> str:
    """`f (engine/evaluate.py)` from py-spy's `f (/abs/path/engine/evaluate.py:120)`: one
    name per function, whatever line of it was running."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", _ROOT, "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


def describe(spots: Hotspots) -> str:
    lines = [f"py-spy: {spots.samples:,} samples of the service's workers, by innermost frame"]
    lines += [f"  {share:6.1%}  {name}" for name, share in spots.by_group]
    lines.append("  innermost functions:")
    lines += [f"  {share:6.1%}  {name}" for name, share in spots.by_function]
    lines.append("  time inside the project's functions (callees included):")
    lines += [f"  {share:6.1%}  {name}" for name, share in spots.inclusive]
    return "\n".join(lines)
