"""Web benchmark: geetrio vs uvicorn+starlette vs hypercorn (trio worker), side by side.

Each server runs alone, pinned to CPU 0; wrk runs pinned to CPU 1
(``wrk -t1 -c50 -d{duration}s --latency``) on ``GET /`` (13-byte text) and
``GET /user/:name`` (small JSON). Then the RSS of each server holding 1,000 idle
keep-alive connections. Prints req/s, p99 and the ratios the issue's targets use.

    python benchmarks/web/bench_web.py [--duration 10] [--servers geetrio,uvicorn,...]
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
SERVERS = ["geetrio", "geetrio-recovery", "uvicorn", "uvicorn-asyncio", "hypercorn-trio"]
ROUTES = {"/": "/", "/user/:name": "/user/geektutu"}
IDLE_CONNECTIONS = 1000


@dataclass
class Result:
    requests_per_second: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(name: str, port: int, keep_alive: float = 5.0) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "servers.py"), name, str(port), str(keep_alive)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, cwd=HERE.parent.parent)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not start listening within 20 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _latency_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


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
    p99 = _latency_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
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
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--servers", default=",".join(SERVERS))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    servers = args.servers.split(",")
    print(
        f"web benchmark: wrk -t1 -c50 -d{args.duration}s, server on CPU 0, wrk on CPU 1 "
        f"({os.cpu_count()} CPUs)"
    )
    results: dict[tuple[str, str], Result] = {}
    for name in servers:
        port = free_port()
        process = start_server(name, port)
        try:
            run_wrk(port, "/", 2)  # warm-up
            for route, path in ROUTES.items():
                results[name, route] = result = run_wrk(port, path, args.duration)
                print(
                    f"  {name:18} {route:13} {result.requests_per_second:>9,.0f} req/s"
                    f"   p99 {result.p99_ms:6.2f} ms   errors {result.errors}",
                    flush=True,
                )
        finally:
            stop_server(process)

    print("\nratios (req/s, higher is better; p99, lower is better):")
    for ours in ("geetrio", "geetrio-recovery"):
        for peer, target in (("uvicorn", 1.2), ("uvicorn-asyncio", 1.2), ("hypercorn-trio", 10.0)):
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
