"""Real redis-server processes for tests and benchmarks, each on its own free port.

    server = start_redis()           # redis-server on 127.0.0.1, no persistence
    store = open_store(server.url)
    server.kill(); server.restart()  # SIGKILL, then the same port again
    server.stop()

    cluster = start_cluster(3)       # three masters, slots shared by redis-cli
    store = open_store(cluster.url)  # redis+cluster://127.0.0.1:PORT

Every process is started and stopped by its own pid, never by name; any still running
when the interpreter exits is stopped then. Never uses the Redis on 6379.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.processes import free_port as free_port  # one picker, re-exported for tests
from loadtests.processes import redis_answers

INSTALL_HINT = "install it with: sudo apt-get install -y redis-server"
_live: set[RedisProcess] = set()


class RedisServerMissing(RuntimeError):
    """redis-server (or redis-cli) is not on PATH: the Redis tests cannot run."""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RedisServerMissing(
            f"{name} is not installed; the Redis tests need it: {INSTALL_HINT}"
        )
    return path


@dataclass(eq=False)
class RedisProcess:
    """One redis-server subprocess with its own temporary directory."""

    port: int
    appendonly: bool = False
    cluster: bool = False
    bus_port: int = 0  # the cluster bus port, kept across restarts
    dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="promo-redis-"))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not running"
        return self.proc.pid

    def start(self) -> None:
        cmd = [
            _binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no", "--dir", self.dir, "--logfile", "redis.log",
        ]  # fmt: skip
        if self.cluster:
            self.bus_port = self.bus_port or free_port()
            cmd += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", str(self.bus_port)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _live.add(self)
        deadline = time.monotonic() + 10
        while not redis_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = Path(self.dir, "redis.log")
                tail = log.read_text()[-800:] if log.exists() else ""
                self._signal(signal.SIGKILL)
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{tail}")
            time.sleep(0.02)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            if sig in (signal.SIGTERM, signal.SIGKILL):
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash; `restart()` brings it back."""
        self._signal(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP: the server stops answering but keeps its connections open."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self) -> None:
        """Stop if running, then start again on the same port and directory."""
        self.resume()
        self._signal(signal.SIGTERM)
        self.start()

    def stop(self) -> None:
        """Stop the process (SIGTERM, by pid) and remove its directory."""
        self.resume()  # a stopped process ignores SIGTERM until continued
        try:
            self._signal(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        _live.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_redis(
    port: int | None = None, *, appendonly: bool = False, cluster: bool = False
) -> RedisProcess:
    """A running redis-server on `port` (default: a free one)."""
    _binary("redis-server")
    server = RedisProcess(port or free_port(), appendonly=appendonly, cluster=cluster)
    server.start()
    return server


@dataclass(eq=False)
class RedisClusterProcesses:
    nodes: list[RedisProcess]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(n: int = 3) -> RedisClusterProcesses:
    """A Redis Cluster of `n` masters (no replicas), every slot served, state ok."""
    cli = _binary("redis-cli")
    nodes: list[RedisProcess] = []
    try:
        for _ in range(n):
            nodes.append(start_redis(cluster=True))
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        for node in nodes:
            _wait_cluster_ok(cli, node.port)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return RedisClusterProcesses(nodes)


def _wait_cluster_ok(cli: str, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run(
            [cli, "-p", str(port), "cluster", "info"], capture_output=True, text=True, timeout=5
        ).stdout
        if "cluster_state:ok" in out:
            return
        time.sleep(0.1)
    raise RuntimeError(f"cluster node {port} did not reach cluster_state:ok")


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()
