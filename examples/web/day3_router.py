"""Day 3 — the trie router: ``:name`` parameters and ``*filepath`` catch-alls.

python examples/web/day3_router.py
curl http://127.0.0.1:9999/hello/geektutu
curl http://127.0.0.1:9999/assets/css/geektutu.css
"""

from __future__ import annotations

from _common import run

from geetrio.web import Context, Engine

app = Engine()


@app.get("/hello/:name")
async def hello(c: Context) -> None:
    c.string(200, "hello %s, you're at %s\n", c.param("name"), c.path)


@app.get("/hello/b/c")  # a static segment next to :name: both work
async def static_wins(c: Context) -> None:
    c.string(200, "the static route /hello/b/c\n")


@app.get("/assets/*filepath")
async def assets(c: Context) -> None:
    c.json(200, {"filepath": c.param("filepath")})


if __name__ == "__main__":
    run(app, "Gee day 3: trie router")
