"""The processes of a load test: its own redis-server, `promo serve`, locust.

Each runs in its own session (so a Ctrl-C in the terminal reaches only `loadtests.run`,
which then stops them in order) and is stopped by its pid: SIGTERM, then SIGKILL to its
process group if it does not exit in time. Never the Redis on 6379, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path


class ProcessError(RuntimeError):
    """A process did not start; the message says which, why, and where its log is."""


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick), never Redis's default 6379."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port != 6379:
            return port


class Child:
    """One started process, its log file, and how to stop it."""

    def __init__(
        self, name: str, cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None, start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM by pid; after `grace` seconds SIGKILL to its group (its workers too)."""
        if not self.running():
            return
        os.kill(self.pid, signal.SIGTERM)
        if self.wait(grace) is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the group this child leads
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its live descendants: what a
    service with its workers, or locust with its processes, has cost the machine."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            # Fields after the command (which may hold spaces): utime and stime are 14 and 15.
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue  # it exited meanwhile
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process) since boot:
    with tree_cpu, how much the other processes on a shared machine took."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / _TICKS


def redis_answers(port: int) -> bool:
    """Whether a Redis on 127.0.0.1:`port` answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(workdir: Path, log: Path) -> tuple[Child, str]:
    """redis-server on a free loopback port with AOF (fsync every second) in `workdir`;
    the child and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ProcessError("redis-server is not installed: sudo apt-get install -y redis-server")
    port = free_port()
    cmd = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(workdir),
        "--daemonize", "no", "--protected-mode", "yes",
    ]  # fmt: skip
    child = Child("redis-server", cmd, log)
    deadline = time.monotonic() + 15
    while not redis_answers(port):
        if not child.running() or time.monotonic() > deadline:
            child.stop(2)
            raise ProcessError(f"redis-server on port {port} did not start:\n{child.tail()}")
        time.sleep(0.05)
    return child, f"redis://127.0.0.1:{port}/0"


def start_service(
    rules: Path, store: str, port: int, workers: int, rehearse: str, log: Path
) -> Child:
    """`promo serve` on loopback in open local mode (no API keys)."""
    # The venv's `promo` script; `python -m dsl.cli` is the same command without it.
    cmd = [
        sys.executable, "-m", "dsl.cli", "serve", str(rules), "--store", store,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--rehearse", rehearse,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PROMO_API_KEYS"}
    return Child("promo serve", cmd, log, env)


def wait_ready(base_url: str, child: Child | None, timeout: float) -> float:
    """Poll /readyz until it answers 200; the seconds it took. Raises ProcessError when
    the service exits or stays unready."""
    start = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, OSError):
            pass
        if child is not None and not child.running():
            raise ProcessError(f"promo serve exited with {child.proc.returncode}:\n{child.tail()}")
        if time.monotonic() - start > timeout:
            where = f":\n{child.tail()}" if child is not None else ""
            raise ProcessError(f"{base_url} was not ready after {timeout:.0f} s{where}")
        time.sleep(0.2)
