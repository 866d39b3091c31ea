"""Application benchmarks of issue 18, geetrio and its Python peer side by side:

- ``bind``: ``POST /orders`` of a 1 KB JSON order bound into a dataclass and answered
  as JSON — geetrio's ``c.bind`` vs FastAPI with the same dataclass (target 1.3x);
- ``gzip``: ``GET /report``, a 10 KB JSON answer through gzip — ``web.gzip()`` vs
  starlette's ``GZipMiddleware`` (target 1.2x);
- ``upload``: a 100 MB multipart upload, files spooled to disk — geetrio's ``c.form()``
  vs starlette's ``request.form()`` (both python-multipart): MB/s and the server's peak
  RSS growth (target: throughput ≥ 1x, RSS flat);
- ``workers``: ``GET /`` with 2 workers vs 1 (informational on 2 cores, where wrk shares
  them).

Peers run on uvicorn with uvloop and httptools. Servers pinned to CPU 0 and wrk to CPU 1
(``wrk -t1 -c50``), except for ``workers``; the contenders take turns in interleaved
rounds and medians are compared.

    python benchmarks/web/bench_apps.py [--duration 5] [--rounds 3] [--only bind,gzip,...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

from app_servers import ORDER_BODY  # noqa: E402

from benchmarks.common import free_port, interleaved, median, stop, taskset, wait_port  # noqa: E402

UPLOAD_MB = 100
GZIP = "Accept-Encoding: gzip"
BOUNDARY = b"----bench-boundary-7d1f"


def start(name: str, port: int, workers: int = 1, pinned: bool = True) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(HERE / "app_servers.py"), name, str(port), str(workers)]
    process = subprocess.Popen(taskset(0, command) if pinned else command, cwd=HERE.parent.parent)
    wait_port(port, process)
    return process


def wrk(
    port: int, path: str, duration: int, *, script: str = "", header: str = "", pinned: bool = True
) -> float:
    command = ["wrk", "-t1", "-c50", f"-d{duration}s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        if header:
            command += ["-H", header]
        command.append(f"http://127.0.0.1:{port}{path}")
        if pinned:
            command = taskset(1, command)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{bad.group(1)} failed requests:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


POST_ORDER = f"""
wrk.method = "POST"
wrk.body = [[{ORDER_BODY}]]
wrk.headers["Content-Type"] = "application/json"
"""


def serve_and_wrk(name: str, path: str, duration: int, **options: str) -> float:
    port = free_port()
    process = start(name, port)
    try:
        wrk(port, path, 1, **options)  # warm-up
        return wrk(port, path, duration, **options)
    finally:
        stop(process)


def check_gzip(name: str) -> None:
    """The contender really compresses (else the comparison means nothing)."""
    port = free_port()
    process = start(name, port)
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /report HTTP/1.1\r\nHost: b\r\nAccept-Encoding: gzip\r\n\r\n")
            head = s.recv(65536).split(b"\r\n\r\n")[0].lower()
            assert b"content-encoding: gzip" in head, head
    finally:
        stop(process)


def rss_peak_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def upload(name: str) -> tuple[float, float]:
    """(MB/s, peak RSS growth in MiB) of one 100 MB upload in 64 KiB sends."""
    port = free_port()
    process = start(name, port)
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = UPLOAD_MB * 1024 * 1024 // len(chunk)
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"'
        b"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"
    length = len(head) + count * len(chunk) + len(tail)
    try:
        with socket.create_connection(("127.0.0.1", port)) as warm:  # imports, first request
            warm.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
            warm.recv(65536)
        before, _ = rss_peak_kib(process.pid)
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(
                b"POST /upload HTTP/1.1\r\nHost: b\r\nContent-Type: multipart/form-data; "
                b"boundary=" + BOUNDARY + b"\r\nContent-Length: %d\r\n\r\n" % length + head
            )
            for _ in range(count):
                s.sendall(chunk)
            s.sendall(tail)
            answer = b""
            while not answer.endswith(b"}"):
                data = s.recv(65536)
                assert data, answer
                answer += data
        elapsed = time.perf_counter() - started
        assert b'"size":%d' % (count * len(chunk)) in answer.replace(b" ", b""), answer
        _, peak = rss_peak_kib(process.pid)
        return UPLOAD_MB / elapsed, (peak - before) / 1024
    finally:
        stop(process)


def workers(count: int, duration: int) -> float:
    port = free_port()
    process = start("geetrio", port, count, pinned=False)
    try:
        wrk(port, "/", 1, pinned=False)
        return wrk(port, "/", duration, pinned=False)
    finally:
        stop(process)


def compare(title: str, runs: dict[str, list[float]], target: float, unit: str = "req/s") -> None:
    (ours, a), (peer, b) = runs.items()
    ra, rb = median(a), median(b)
    verdict = "meets" if ra / rb >= target else "MISSES"
    print(
        f"  {title}: {ours} {ra:,.0f} {unit}, {peer} {rb:,.0f} {unit} -> {ra / rb:.2f}x "
        f"({verdict} {target}x target)"
    )
    print(
        f"    rounds: {ours} "
        + ", ".join(f"{v:,.0f}" for v in a)
        + f"; {peer} "
        + ", ".join(f"{v:,.0f}" for v in b)
    )


def contest(
    peer: str, path: str, args: argparse.Namespace, **options: str
) -> dict[str, list[float]]:
    """wrk on ``path`` of geetrio and ``peer``, in interleaved rounds."""
    return interleaved(
        [
            (name, partial(serve_and_wrk, name, path, args.duration, **options))
            for name in ("geetrio", peer)
        ],
        args.rounds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="bind,gzip,upload,workers")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    only = args.only.split(",")
    print(f"application benchmarks: {args.rounds} interleaved rounds, medians")
    if "bind" in only:
        runs = contest("fastapi", "/orders", args, script=POST_ORDER)
        compare("POST 1 KB JSON bound into a dataclass", runs, 1.3)
    if "gzip" in only:
        for name in ("geetrio", "starlette"):
            check_gzip(name)
        runs = contest("starlette", "/report", args, header=GZIP)
        compare("GET of a 10 KB JSON answer through gzip", runs, 1.2)
    if "upload" in only:
        results = interleaved(
            [(name, lambda name=name: upload(name)) for name in ("geetrio", "starlette")],
            args.rounds,
        )
        compare(
            f"{UPLOAD_MB} MB multipart upload",
            {k: [r[0] for r in v] for k, v in results.items()},
            1.0,
            "MB/s",
        )
        for name, values in results.items():
            growth = median([r[1] for r in values])
            print(
                f"    {name}: peak RSS grew {growth:.1f} MiB during the upload (rounds: "
                + ", ".join(f"{r[1]:.1f}" for r in values)
                + ")"
            )
    if "workers" in only:
        runs = interleaved(
            [(f"{n} worker(s)", lambda n=n: workers(n, args.duration)) for n in (2, 1)], args.rounds
        )
        a, b = (median(values) for values in runs.values())
        print(
            f"  GET / with 2 workers {a:,.0f} req/s vs 1 worker {b:,.0f} req/s -> {a / b:.2f}x"
            " (informational: wrk shares the 2 cores)"
        )


if __name__ == "__main__":
    main()
