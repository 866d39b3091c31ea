"""HTTPS benchmark: geetrio vs uvicorn (uvloop + httptools), the same certificate.

Each server alone on CPU 0, wrk on CPU 1 (``wrk -t1 -c50``), ``GET /`` over TLS:
keep-alive requests per second, then new TLS connections per second (each request
on a connection of its own, ``Connection: close``: a handshake per request). Servers
take turns in interleaved rounds and the medians are compared. Targets: >= 1.2x
uvicorn with keep-alive, >= 1.0x on new connections.

    python benchmarks/web/bench_https.py [--duration 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.common import free_port, median, stop, taskset, wait_port  # noqa: E402

SERVERS = ["geetrio", "uvicorn"]
TARGETS = {"keep-alive": 1.2, "new connections": 1.0}


def start(name: str, port: int, cert: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "servers.py"), name, str(port)]
    env = {**os.environ, "BENCH_TLS_CERT": str(cert)}
    process = subprocess.Popen(taskset(0, command), cwd=HERE.parent.parent, env=env)
    wait_port(port, process)
    return process


def wrk(port: int, duration: int, close: bool) -> float:
    command = ["wrk", "-t1", "-c50", f"-d{duration}s", f"https://127.0.0.1:{port}/"]
    if close:
        command[1:1] = ["-H", "Connection: close"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_https: skipped — wrk is not installed (make tools)")
        return
    import trustme

    with tempfile.TemporaryDirectory() as folder:
        cert = Path(folder) / "server.pem"
        trustme.CA().issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for name in SERVERS:
                port = free_port()
                process = start(name, port, cert)
                try:
                    for mode, close in (("keep-alive", False), ("new connections", True)):
                        rps = wrk(port, args.duration, close)
                        results.setdefault((name, mode), []).append(rps)
                finally:
                    stop(process)
    print(
        f"HTTPS GET /: wrk -t1 -c50 -d{args.duration}s, server on CPU 0, wrk on CPU 1, "
        f"{args.rounds} interleaved rounds, medians"
    )
    for (name, mode), values in results.items():
        rounds = ", ".join(f"{v:,.0f}" for v in values)
        print(f"  {name:8} {mode:16} {median(values):>9,.0f} req/s   (rounds: {rounds})")
    for mode, target in TARGETS.items():
        ratio = median(results["geetrio", mode]) / median(results["uvicorn", mode])
        verdict = "meets" if ratio >= target else "MISSES"
        print(f"  geetrio / uvicorn {mode:16} {ratio:.2f}x ({verdict} {target}x target)")


if __name__ == "__main__":
    main()
