"""Slowloris benchmark: how long a normal GET takes while 2,000 slow clients hold
connections open with unfinished request heads — and, for geetrio, while the wave of
408 answers goes out when their header timeout passes — side by side with uvicorn.

The server runs pinned to CPU 0 (geetrio with ``header_timeout=3``; uvicorn has no
header timeout, so its slow clients just stay). This process, on CPU 1, opens the slow
connections, then sends normal GETs one after another on one keep-alive connection
for 6 s and reports their latency around the wave (2-5 s after the slow clients
connected). Target: p99 of a normal GET during the wave under 20 ms. A single client
sees a stall of the server as one slow request, so the slowest GET of the wave
(``max``) and p99.9 are printed too, and so is whether the slowest stays under 20 ms.

    python benchmarks/web/bench_slowloris.py [--slow 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.common import free_port, interleaved, median, pin, stop, taskset, wait_port  # noqa: E402

HEADER_TIMEOUT = 3.0
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
PARTIAL = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: "
RUN_SECONDS = 6.0
WAVE = (HEADER_TIMEOUT - 1.0, HEADER_TIMEOUT + 2.0)  # seconds after the slow clients


def start(name: str, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "servers.py"), name, str(port), "5.0"]
    command += [str(HEADER_TIMEOUT)] if name.startswith("geetrio") else []
    process = subprocess.Popen(taskset(0, command), cwd=HERE.parent.parent)
    wait_port(port, process)
    return process


def read_response(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the normal connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)


def one_round(name: str, slow: int) -> dict[str, float]:
    port = free_port()
    process = start(name, port)
    slow_sockets: list[socket.socket] = []
    try:
        normal = socket.create_connection(("127.0.0.1", port))
        normal.sendall(REQUEST)
        read_response(normal)
        for _ in range(slow):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(PARTIAL)
            slow_sockets.append(s)
        opened = time.perf_counter()
        latencies: list[tuple[float, float]] = []
        while (now := time.perf_counter()) - opened < RUN_SECONDS:
            normal.sendall(REQUEST)
            read_response(normal)
            latencies.append((now - opened, time.perf_counter() - now))
        answered = 0
        for s in slow_sockets:
            s.setblocking(False)
            with contextlib.suppress(OSError):  # nothing came: not answered
                answered += s.recv(64).startswith(b"HTTP/1.1 408")
        normal.close()
    finally:
        for s in slow_sockets:
            s.close()
        stop(process)
    wave = sorted(lat for t, lat in latencies if WAVE[0] <= t <= WAVE[1])
    return {
        "p50": wave[len(wave) // 2] * 1000,
        "p99": wave[int(len(wave) * 0.99)] * 1000,
        "p999": wave[int(len(wave) * 0.999)] * 1000,
        "max": wave[-1] * 1000,
        "requests": len(wave),
        "408s": answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=2000, help="slow clients")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    pin(1)
    runs = interleaved(
        [(name, lambda name=name: one_round(name, args.slow)) for name in ("geetrio", "uvicorn")],
        args.rounds,
    )
    print(
        f"slowloris: {args.slow} slow clients, normal GETs on one keep-alive connection "
        f"{WAVE[0]:.0f}-{WAVE[1]:.0f} s after they connected (geetrio's 408 wave at "
        f"{HEADER_TIMEOUT:.0f} s), {args.rounds} interleaved rounds, medians:"
    )
    for name, results in runs.items():
        p = {key: median([r[key] for r in results]) for key in results[0]}
        print(
            f"  {name:8} normal GET p50 {p['p50']:5.2f} ms   p99 {p['p99']:5.2f} ms   "
            f"p99.9 {p['p999']:6.2f} ms   max {p['max']:7.2f} ms   ({p['requests']:.0f} "
            f"requests; {p['408s']:.0f} slow clients answered 408)   max per round: "
            + ", ".join(f"{r['max']:.2f}" for r in results)
        )
    p99 = median([r["p99"] for r in runs["geetrio"]])
    slowest = median([r["max"] for r in runs["geetrio"]])
    verdict = "meets" if p99 < 20.0 else "MISSES"
    print(f"  geetrio p99 during the wave {p99:.2f} ms ({verdict} the 20 ms target)")
    under = "under" if slowest < 20.0 else "OVER"
    print(f"  geetrio slowest GET during the wave {slowest:.2f} ms ({under} 20 ms)")


if __name__ == "__main__":
    main()
