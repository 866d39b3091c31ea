"""The Context's helpers (web/context.py): reading the request, answering it, and what they
refuse."""

from __future__ import annotations

import json

import pytest

from geetrio.web import Context, Engine, default
from tests.helpers import call, header


async def test_context_helpers() -> None:
    app = Engine()

    @app.post("/form/:kind")
    async def form(c: Context) -> None:
        c.set("user", "tom")
        c.json(
            201,
            {
                "kind": c.param("kind"),
                "missing_param": c.param("nope"),
                "q": c.query("q"),
                "q_default": c.query("absent", "dflt"),
                "name": c.post_form("name"),
                "age": c.post_form("age", "0"),
                "header": c.headers["x-custom"],
                "user": c.get("user"),
                "absent": c.get("absent", "none"),
                "method": c.method,
                "path": c.path,
                "body": c.body.decode(),
            },
        )

    response = await call(
        app,
        "POST",
        "/form/k%C3%A9?q=a%20b&q=second",
        headers=[("Content-Type", "application/x-www-form-urlencoded"), ("X-Custom", "v")],
        body=b"name=Tom+Cat&x=1",
    )
    assert response.status == 201
    assert header(response, "content-type") == "application/json"
    assert json.loads(response.body) == {
        "kind": "ké",
        "missing_param": "",
        "q": "a b",
        "q_default": "dflt",
        "name": "Tom Cat",
        "age": "0",
        "header": "v",
        "user": "tom",
        "absent": "none",
        "method": "POST",
        "path": "/form/ké",
        "body": "name=Tom+Cat&x=1",
    }


async def test_string_is_printf_style_only_with_values() -> None:
    app = Engine()

    @app.get("/fmt")
    async def fmt(c: Context) -> None:
        c.string(200, "hello %s, %d%%\n", "geektutu", 100)

    @app.get("/raw")
    async def raw(c: Context) -> None:
        c.string(200, "100% raw")

    assert (await call(app, "GET", "/fmt")).body == b"hello geektutu, 100%\n"
    raw_response = await call(app, "GET", "/raw")
    assert raw_response.body == b"100% raw"
    assert header(raw_response, "content-type") == "text/plain; charset=utf-8"


async def test_later_helpers_replace_earlier_ones() -> None:
    app = Engine()

    @app.get("/")
    async def index(c: Context) -> None:
        c.set_header("Content-Type", "text/csv")
        c.string(200, "first")
        c.data(203, b"\x00\x01")

    response = await call(app, "GET", "/")
    assert (response.status, response.body) == (203, b"\x00\x01")
    assert header(response, "content-type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("key", "value"),
    [("X-Bad", "a\r\nSet-Cookie: x=1"), ("X-Bad", "a\nb"), ("Bad Name", "v"), ("", "v")],
)
async def test_header_injection_is_refused(key: str, value: str) -> None:
    app = default()

    @app.get("/")
    async def index(c: Context) -> None:
        c.set_header(key, value)

    response = await call(app, "GET", "/")
    assert response.status == 500  # recovery() turned the ValueError into a 500
    assert header(response, "set-cookie") is None


async def test_json_refuses_nan() -> None:
    app = default()

    @app.get("/")
    async def index(c: Context) -> None:
        c.json(200, {"x": float("nan")})

    assert (await call(app, "GET", "/")).status == 500
