"""The price of metrics (issue 20), twice:

1. instructions per ``GET /`` through the parser, the engine and ``render_head`` (as
   ``bench_instructions.py``, callgrind, 25,000 minus 5,000 requests) with
   ``app.enable_metrics()`` and without — a figure the machine's load does not move;
   against this path alone (no sockets, no scheduler) the share is an upper bound;
2. ``GET /`` and ``GET /user/:name`` on the same app with metrics and without, each
   server alone on CPU 0, ``wrk -t1 -c50`` on CPU 1, interleaved rounds, medians (on a
   shared machine its rounds swing far more than 5%: read them, not only the median).

Target: at most 5% slower.

    python benchmarks/web/bench_metrics.py [--duration 5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import free_port, median, per_call, stop
from benchmarks.web.bench_instructions import DRIVER, FEW, MANY
from benchmarks.web.bench_web import ROUTES, run_wrk, start_server

SERVERS = ("geetrio", "geetrio-metrics")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    if shutil.which("valgrind"):
        root = Path(__file__).resolve().parents[2]
        with tempfile.TemporaryDirectory() as folder:
            off_driver, on_driver = Path(folder) / "off.py", Path(folder) / "on.py"
            off_driver.write_text(DRIVER)
            on_driver.write_text(
                DRIVER.replace("app = Engine()", "app = Engine()\napp.enable_metrics()")
            )
            off, on = (per_call(root, d, FEW, MANY) for d in (off_driver, on_driver))
        verdict = "meets" if on / off <= 1.05 else "MISSES"
        print(
            f"instructions per GET / (parser + engine + render_head): off {off:,.0f}, "
            f"on {on:,.0f}: {(on / off - 1) * 100:+.1f}% (target <= 5%: {verdict})",
            flush=True,
        )
    print(f"metrics on vs off: wrk -t1 -c50 -d{args.duration}s, {args.rounds} rounds, medians")
    runs: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name in SERVERS:
            port = free_port()
            process = start_server(name, port)
            try:
                run_wrk(port, "/", 1)  # warm-up
                for route, path in ROUTES.items():
                    result = run_wrk(port, path, args.duration)
                    assert result.errors == 0, f"{name} {route}: {result.errors} errors"
                    runs.setdefault((name, route), []).append(result.requests_per_second)
            finally:
                stop(process)
    for route in ROUTES:
        off, on = (median(runs[name, route]) for name in SERVERS)
        slower = 1 - on / off
        verdict = "meets" if slower <= 0.05 else "MISSES"
        rounds = "; ".join(
            f"{name}: " + ", ".join(f"{r:,.0f}" for r in runs[name, route]) for name in SERVERS
        )
        print(
            f"  {route:13} off {off:9,.0f} req/s   on {on:9,.0f} req/s   "
            f"{slower * 100:+5.1f}% slower (target <= 5%: {verdict})\n      rounds: {rounds}",
            flush=True,
        )


if __name__ == "__main__":
    main()
