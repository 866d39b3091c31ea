"""Day 4 — route groups with a shared prefix, nested.

python examples/web/day4_group.py
curl "http://127.0.0.1:9999/v1/hello?name=geektutu"
curl http://127.0.0.1:9999/v2/hello/geektutu
"""

from __future__ import annotations

from _common import run

from geetrio.web import Context, Engine

app = Engine()
v1 = app.group("/v1")


@v1.get("/hello")
async def hello_v1(c: Context) -> None:
    c.string(200, "hello %s, you're at %s\n", c.query("name"), c.path)


v2 = app.group("/v2")


@v2.get("/hello/:name")
async def hello_v2(c: Context) -> None:
    c.string(200, "hello %s, you're at %s\n", c.param("name"), c.path)


@v2.post("/login")
async def login(c: Context) -> None:
    c.json(200, {"username": c.post_form("username"), "password": c.post_form("password")})


admin = v2.group("/admin")  # nested: /v2/admin


@admin.get("/")
async def admin_home(c: Context) -> None:
    c.string(200, "admin at %s\n", c.path)


if __name__ == "__main__":
    run(app, "Gee day 4: groups")
