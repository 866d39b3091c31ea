"""Day 7 — recovery: a handler that raises answers 500, the server keeps serving.

python examples/web/day7_panic_recover.py
curl http://127.0.0.1:9999/panic   ->  {"message":"Internal Server Error"} (traceback logged)
curl http://127.0.0.1:9999/        ->  Hello Geektutu  (still serving)
"""

from __future__ import annotations

from _common import run

from geetrio.web import Context, default

app = default()  # logger() and recovery()


@app.get("/")
async def index(c: Context) -> None:
    c.string(200, "Hello Geektutu\n")


@app.get("/panic")
async def panic(c: Context) -> None:
    names = ["geektutu"]
    c.string(200, names[100])  # IndexError, like Go's index out of range


if __name__ == "__main__":
    run(app, "Gee day 7: panic recovery")
