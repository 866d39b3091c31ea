"""Instructions per request through geetrio's HTTP request path, counted by callgrind:
a figure that does not move with the machine's load, for before/after comparisons of
the framework's own cost (the wrk figures of bench_web.py swing by ±10% on a shared VM).

    python benchmarks/web/bench_instructions.py [--against /path/to/other/checkout]

The path: ``RequestParser.feed`` + ``next_request``, ``Engine.handle`` (router, context,
``c.string``), ``render_head`` — no sockets, no scheduler. Each checkout is run under
``valgrind --tool=callgrind`` with 5,000 and 25,000 requests; the difference over 20,000
is the cost of one request. Needs valgrind (on every machine kind here).
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

ROOT = Path(__file__).resolve().parents[2]
DRIVER = """
import sys, gc
import trio
from geetrio.web import Engine
from geetrio.http import RequestParser, render_head

app = Engine()

@app.get("/")
async def index(c):
    c.string(200, "Hello, World!")

REQUEST = b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"

async def main(n):
    parser = RequestParser()
    for _ in range(n):
        parser.feed(REQUEST)
        response = await app.handle(parser.next_request())
        render_head(response.status, response.headers, len(response.body), True)

gc.disable()
trio.run(main, int(sys.argv[1]))
"""
FEW, MANY = 5_000, 25_000


def instructions(checkout: Path, requests: int, driver: Path) -> int:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryDirectory() as folder:  # a cwd without a geetrio of its own
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/cg.out",
                sys.executable,
                str(driver),
                str(requests),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found, out.stderr[-2000:]
    return int(found.group(1))


def per_request(checkout: Path, driver: Path) -> float:
    return (instructions(checkout, MANY, driver) - instructions(checkout, FEW, driver)) / (
        MANY - FEW
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("bench_instructions: skipped — valgrind is not installed")
        return
    with tempfile.TemporaryDirectory() as folder:
        driver = Path(folder) / "driver.py"
        driver.write_text(DRIVER)
        ours = per_request(ROOT, driver)
        print(f"instructions per GET / (parser + engine + render_head): {ours:,.0f}")
        if args.against is not None:
            theirs = per_request(args.against.resolve(), driver)
            print(
                f"  {args.against}: {theirs:,.0f}   this checkout / that one: {ours / theirs:.3f}"
            )


if __name__ == "__main__":
    main()
