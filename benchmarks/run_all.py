"""`make bench`: every benchmark, one after the other, each printing its ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    HERE / "web" / "bench_web.py",
    HERE / "web" / "bench_instructions.py",
    HERE / "web" / "bench_slowloris.py",
    HERE / "web" / "bench_https.py",
    HERE / "web" / "bench_apps.py",
    HERE / "web" / "bench_metrics.py",
    HERE / "web" / "bench_tracing.py",
    HERE / "rpc" / "bench_gob.py",
    HERE / "cache" / "bench_cache.py",
    HERE / "orm" / "bench_orm.py",
    HERE / "orm" / "bench_orm_pg.py",
    HERE / "orm" / "bench_relations.py",
    HERE / "orm" / "bench_iterate.py",
    HERE / "rpc" / "bench_rpc.py",
    HERE / "rpc" / "bench_rpc_secure.py",
    HERE / "rpc" / "bench_instructions.py",
    HERE / "soak.py",
    HERE / "floods.py",
]

if __name__ == "__main__":
    for script in BENCHMARKS:
        print(f"== {script.relative_to(HERE.parent)}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
