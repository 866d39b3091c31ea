"""The price of metrics (issue 20): ``GET /`` and ``GET /user/:name`` on the same app
with ``app.enable_metrics()`` and without, side by side — each server alone on CPU 0,
``wrk -t1 -c50`` on CPU 1, interleaved rounds, medians; target: at most 5% slower.

    python benchmarks/web/bench_metrics.py [--duration 5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import free_port, median, stop
from benchmarks.web.bench_web import ROUTES, run_wrk, start_server

SERVERS = ("geetrio", "geetrio-metrics")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
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
        print(
            f"  {route:13} off {off:9,.0f} req/s   on {on:9,.0f} req/s   "
            f"{slower * 100:+5.1f}% slower (target <= 5%: {verdict})",
            flush=True,
        )


if __name__ == "__main__":
    main()
