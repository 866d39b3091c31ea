"""Day 5 — middleware: code before and after ``await c.next()``.

python examples/web/day5_middleware.py
curl http://127.0.0.1:9999/v2/hello/geektutu     (watch the log lines)
"""

from __future__ import annotations

import logging
import time

from _common import run

from geetrio.web import Context, Engine, logger

log = logging.getLogger("day5")
app = Engine()
app.use(logger())  # global: every request, 404s included


def only_for_v2():  # type: ignore[no-untyped-def]
    async def middleware(c: Context) -> None:
        started = time.perf_counter()
        await c.next()  # the rest of the chain runs here
        elapsed = (time.perf_counter() - started) * 1000
        log.info("[%d] %s in %.3fms for group v2", c.status_code, c.path, elapsed)

    return middleware


@app.get("/")
async def index(c: Context) -> None:
    c.data(200, b"<h1>Hello Gee</h1>")


v2 = app.group("/v2")
v2.use(only_for_v2())


@v2.get("/hello/:name")
async def hello(c: Context) -> None:
    c.string(200, "hello %s, you're at %s\n", c.param("name"), c.path)


if __name__ == "__main__":
    run(app, "Gee day 5: middleware")
