"""Web benchmark: geetrio vs uvicorn+starlette vs hypercorn (trio worker), side by side.

Each server runs alone, pinned to CPU 0; wrk runs pinned to CPU 1
(``wrk -t1 -c50 -d{duration}s --latency``) on ``GET /`` (13-byte text) and
``GET /user/:name`` (small JSON). The servers take turns in interleaved rounds
(a, b, c, a, b, c, ...) and the medians are compared, so machine drift cannot favour
one. Then the RSS of each server holding 1,000 idle keep-alive connections. Prints
req/s, p99 and the ratios the issue's targets use.

    python benchmarks/web/bench_web.py [--duration 5] [--rounds 3] [--servers geetrio,...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.common import free_port, median, stop, taskset, wait_port  # noqa: E402

SERVERS = ["geetrio", "geetrio-recovery", "bare", "uvicorn", "uvicorn-asyncio", "hypercorn-trio"]
ROUTES = {"/": "/", "/user/:name": "/user/geektutu"}
IDLE_CONNECTIONS = 1000


@dataclass
class Result:
    requests_per_second: float
    p99_ms: float
    errors: int


def start_server(name: str, port: int, keep_alive: float = 5.0) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "servers.py"), name, str(port), str(keep_alive)]
    process = subprocess.Popen(taskset(0, command), cwd=HERE.parent.parent)
    wait_port(port, process)
    return process


def _latency_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def percentile(wrk_output: str, label: str) -> str:
    """A value from wrk's "Latency Distribution" block only: the thread-stats table
    above it has columns like ``98.99%`` that a bare search for ``99%`` would match."""
    _, found, block = wrk_output.partition("Latency Distribution")
    if not found:
        raise RuntimeError(f"wrk printed no latency distribution:\n{wrk_output}")
    for line in block.splitlines()[1:]:
        fields = line.split()
        if len(fields) != 2 or not fields[0].endswith("%"):
            break  # the end of the block
        if fields[0] == label:
            return fields[1]
    raise RuntimeError(f"no {label} line in wrk's latency distribution:\n{block}")


def run_wrk(port: int, path: str, duration: int) -> Result:
    command = [
        "wrk",
        "-t1",
        "-c50",
        f"-d{duration}s",
        "--latency",
        f"http://127.0.0.1:{port}{path}",
    ]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _latency_ms(percentile(out, "99%"))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(rps, p99, errors + (int(non2xx.group(1)) if non2xx else 0))


def rss_kib(pid: int) -> int:
    # taskset execs the server in place, so the PID is the server's own.
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def idle_rss(name: str) -> tuple[int, int]:
    """(RSS before, RSS with IDLE_CONNECTIONS idle keep-alive connections) in KiB."""
    port = free_port()
    process = start_server(name, port, keep_alive=120.0)
    sockets: list[socket.socket] = []
    try:
        request = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
        with socket.create_connection(("127.0.0.1", port)) as warm:
            warm.sendall(request)
            warm.recv(65536)
        time.sleep(0.5)
        before = rss_kib(process.pid)
        for _ in range(IDLE_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            sockets.append(s)
        for s in sockets:  # every connection answered once, now idle
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(1.0)
        return before, rss_kib(process.pid)
    finally:
        for s in sockets:
            s.close()
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--servers", default=",".join(SERVERS))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    servers = args.servers.split(",")
    print(
        f"web benchmark: wrk -t1 -c50 -d{args.duration}s, server on CPU 0, wrk on CPU 1 "
        f"({os.cpu_count()} CPUs), {args.rounds} interleaved rounds, medians"
    )
    runs: dict[tuple[str, str], list[Result]] = {}
    for _ in range(args.rounds):
        for name in servers:
            port = free_port()
            process = start_server(name, port)
            try:
                run_wrk(port, "/", 1)  # warm-up
                for route, path in ROUTES.items():
                    runs.setdefault((name, route), []).append(run_wrk(port, path, args.duration))
            finally:
                stop(process)
    results: dict[tuple[str, str], Result] = {}
    for (name, route), values in runs.items():
        results[name, route] = result = Result(
            median([r.requests_per_second for r in values]),
            median([r.p99_ms for r in values]),
            sum(r.errors for r in values),
        )
        rounds = ", ".join(f"{r.requests_per_second:,.0f}" for r in values)
        print(
            f"  {name:18} {route:13} {result.requests_per_second:>9,.0f} req/s"
            f"   p99 {result.p99_ms:6.2f} ms   errors {result.errors}   (rounds: {rounds})",
            flush=True,
        )

    print("\nratios (req/s, higher is better; p99, lower is better):")
    for ours in ("geetrio", "geetrio-recovery"):
        targets = (
            ("bare", 0.85),
            ("uvicorn", 1.4),
            ("uvicorn-asyncio", 1.4),
            ("hypercorn-trio", 10.0),
        )
        for peer, target in targets:
            for route in ROUTES:
                if (ours, route) in results and (peer, route) in results:
                    a, b = results[ours, route], results[peer, route]
                    ratio = a.requests_per_second / b.requests_per_second
                    verdict = "meets" if ratio >= target else "MISSES"
                    p99 = "p99 ok" if a.p99_ms <= b.p99_ms else "p99 WORSE"
                    print(
                        f"  {ours:16} / {peer:15} {route:13} {ratio:5.2f}x "
                        f"({verdict} {target}x target)   p99 {a.p99_ms:.2f} vs {b.p99_ms:.2f} ms"
                        f" ({p99})"
                    )

    print(f"\nRSS with {IDLE_CONNECTIONS} idle keep-alive connections:")
    for name in [n for n in ("geetrio", "uvicorn") if n in servers]:
        before, after = idle_rss(name)
        print(
            f"  {name:18} {before / 1024:7.1f} MiB idle -> {after / 1024:7.1f} MiB "
            f"(+{(after - before) / IDLE_CONNECTIONS:.1f} KiB per connection)"
        )


if __name__ == "__main__":
    main()
