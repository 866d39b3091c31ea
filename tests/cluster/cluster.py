"""The cluster under test, on four hosts of a ``Network``:

- ``h1``..``h3``: a cache node each (``servers/cache_node.py``: peer server on :8001,
  stats API on :9000) over one sqlite file of ``KEYS`` rows;
- ``h4``: the API node (a cache node too, caching nothing itself: every request for a
  key it does not own goes to the owner), the RPC registry (:9100, TTL ``RPC_TTL``) and
  the ``agent`` through which the test makes requests from inside the cluster;
- ``h1`` and ``h2``: an RPC server each (:9200, heartbeats every ``HEARTBEAT`` s).

Every cache node is given all four URLs, so every node places keys alike; the test
computes placement with the same ``HashRing``.
"""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from geetrio.cache._consistenthash import HashRing
from tests.cluster.netns import Network, stop

ROOT = Path(__file__).resolve().parents[2]
# Private network namespaces: the plain protocols the faults are about, on purpose.
INSECURE = "--insecure"
SERVERS = ROOT / "servers"
HERE = Path(__file__).resolve().parent

KEYS = [f"player-{i:03d}" for i in range(300)]
PEER_TIMEOUT = 0.5  # the cache nodes' --timeout
RPC_TTL = 2.0  # the registry's --timeout
HEARTBEAT = 0.5  # the RPC servers' --interval
CACHE_HOSTS = ["h1", "h2", "h3", "h4"]
RPC_HOSTS = ["h1", "h2"]


def score(key: str) -> int:
    return int(key.rsplit("-", 1)[1]) * 7


class Lines:
    """Lines from a child's stdout, each waited for with a deadline."""

    def __init__(self, process: subprocess.Popen[str], name: str) -> None:
        assert process.stdout is not None
        self.process, self.name = process, name
        self.fd = process.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffered = b""

    def next(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffered:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no line within {timeout} s")
            if select.select([self.fd], [], [], left)[0]:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise EOFError(f"{self.name} exited ({self.process.wait()})")
                self.buffered += chunk
        line, self.buffered = self.buffered.split(b"\n", 1)
        return line.decode()

    def until(self, last: str, timeout: float = 30.0) -> list[str]:
        lines = []
        while not lines or lines[-1] != last:
            lines.append(self.next(timeout))
        return lines


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.db = tmp / "scores.db"
        with sqlite3.connect(self.db) as db:
            db.execute("CREATE TABLE scores (name TEXT PRIMARY KEY, score INTEGER)")
            db.executemany("INSERT INTO scores VALUES (?, ?)", [(k, score(k)) for k in KEYS])
        db.close()
        self.net = Network(4, logs=tmp)
        self.urls = {h: f"http://{self.net.address(h)}:8001" for h in CACHE_HOSTS}
        self.api = {h: f"http://{self.net.address(h)}:9000" for h in CACHE_HOSTS}
        self.ring = HashRing(50)
        self.ring.add(*self.urls.values())
        self.registry = f"http://{self.net.address('h4')}:9100/_geerpc_/registry"
        self.rpc = {h: f"tcp@{self.net.address(h)}:9200" for h in RPC_HOSTS}
        self.processes: dict[str, subprocess.Popen[str]] = {}
        try:
            for host in CACHE_HOSTS:
                self.start_cache(host)
            self.start_registry()
            for host in RPC_HOSTS:
                self.start_rpc(host)
            agent = self.net.python("h4", HERE / "agent.py", name="agent", stdin=True)
            self.processes["agent"] = agent
            self.agent_lines = Lines(agent, "agent")
            assert json.loads(self.agent_lines.next()) == {"ready": True}
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ programs

    def _started(self, name: str, process: subprocess.Popen[str], last: str) -> list[str]:
        self.processes[name] = process
        try:
            return Lines(process, name).until(last)
        except (TimeoutError, EOFError) as exc:
            raise RuntimeError(f"{exc}; its log:\n{self.net.log(name)}") from exc

    def start_cache(self, host: str) -> None:
        address = self.net.address(host)
        args = [
            *("--self", self.urls[host], "--peers", ",".join(self.urls.values())),
            *("--api", "9000", "--db", str(self.db), "--timeout", str(PEER_TIMEOUT)),
            *("--cache-bytes", "0" if host == "h4" else str(1 << 20)),
            INSECURE,
        ]
        process = self.net.python(host, SERVERS / "cache_node.py", *args, name=f"cache-{host}")
        lines = self._started(f"cache-{host}", process, "ready")
        assert lines[0] == f"cache http://{address}:8001", lines

    def start_registry(self) -> None:
        args = ["--host", self.net.address("h4"), "--port", "9100", "--timeout", str(RPC_TTL)]
        args.append(INSECURE)
        process = self.net.python("h4", SERVERS / "rpc_registry.py", *args, name="registry")
        assert self._started("registry", process, f"registry {self.registry}")

    def start_rpc(self, host: str) -> None:
        args = [
            *("--host", self.net.address(host), "--port", "9200"),
            *("--registry", self.registry, "--interval", str(HEARTBEAT)),
            INSECURE,
        ]
        process = self.net.python(host, SERVERS / "rpc_server.py", *args, name=f"rpc-{host}")
        assert self._started(f"rpc-{host}", process, f"rpc {self.rpc[host]}")

    def kill(self, name: str) -> None:
        """SIGKILL, by PID."""
        stop(self.processes.pop(name), grace=0)

    # ------------------------------------------------------------------ the agent

    def ask(self, op: str, timeout: float = 120.0, **command: Any) -> dict[str, Any]:
        self.send(op, **command)
        return self.answer(timeout)

    def send(self, op: str, **command: Any) -> None:
        agent = self.processes["agent"]
        assert agent.stdin is not None
        agent.stdin.write(json.dumps({"op": op, **command}) + "\n")
        agent.stdin.flush()

    def answer(self, timeout: float = 120.0) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.agent_lines.next(timeout))
        assert "exception" not in answer, answer["exception"]
        return answer

    def get(self, keys: list[str], concurrency: int = 8) -> list[tuple[str, int, str, float]]:
        """``GET /api?key=K`` on the API node for each key."""
        answer = self.ask("get", url=self.api["h4"], keys=keys, concurrency=concurrency)
        return [tuple(r) for r in answer["results"]]  # type: ignore[misc]

    def stats(self, host: str = "h4") -> dict[str, int]:
        stats: dict[str, int] = self.ask("stats", urls=[self.api[host]])["stats"][self.api[host]]
        return stats

    def owned_by(self, host: str) -> list[str]:
        return [k for k in KEYS if self.ring.get(k) == self.urls[host]]

    def close(self) -> None:
        self.net.close()


def report(scenario: str, **figures: Any) -> None:
    """Append what a scenario measured to ``$GEETRIO_CLUSTER_REPORT`` (a JSON line),
    for the notes; nothing when it is unset."""
    path = os.environ.get("GEETRIO_CLUSTER_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"scenario": scenario, **figures}) + "\n")


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in ("peer_loads", "peer_errors", "local_loads")}
