"""Day 2 — Context: one object per request with helpers for answers.

python examples/web/day2_context.py
curl "http://127.0.0.1:9999/hello?name=geektutu"
curl -d "username=geektutu&password=1234" http://127.0.0.1:9999/login
"""

from __future__ import annotations

from _common import run

from geetrio.web import Context, Engine

app = Engine()


@app.get("/")
async def index(c: Context) -> None:
    c.data(200, b"<h1>Hello Gee</h1>")
    c.set_header("Content-Type", "text/html; charset=utf-8")


@app.get("/hello")
async def hello(c: Context) -> None:
    c.string(200, "hello %s, you're at %s\n", c.query("name"), c.path)


@app.post("/login")
async def login(c: Context) -> None:
    c.json(200, {"username": c.post_form("username"), "password": c.post_form("password")})


if __name__ == "__main__":
    run(app, "Gee day 2: Context")
