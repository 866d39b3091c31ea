"""The app the workers tests run: ``python tests/web/workers_app.py N`` serves on a free
port of 127.0.0.1 with N workers and logs to stderr (the port, each worker's pid)."""

from __future__ import annotations

import logging
import os
import sys

from geetrio.web import Context, Engine

app = Engine()


@app.get("/pid")
async def pid(c: Context) -> None:
    c.string(200, "%d", os.getpid())


@app.post("/echo", stream_body=True)
async def echo(c: Context) -> None:
    """Answers once the whole body came: a request the test keeps in flight."""
    body = b"".join([chunk async for chunk in c.stream_body()])
    c.string(200, "%d got %s", os.getpid(), body.decode())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")
    app.run("127.0.0.1:0", workers=int(sys.argv[1]))
