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

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.common import instructions_main  # noqa: E402

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


if __name__ == "__main__":
    instructions_main(
        __doc__.splitlines()[0], DRIVER, FEW, MANY, "GET / (parser + engine + render_head)"
    )
