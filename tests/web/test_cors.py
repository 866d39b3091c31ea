"""CORS from the browser's side (preflights, simple requests, credentials, refusals)
in-process and in Debian's Chromium across two origins; and custom 404/405 handlers."""

from __future__ import annotations

import json
from typing import Any

import trio

from geetrio.http import Request, decode_path
from geetrio.web import Context, Engine, cors
from tests.browser.test_bridge_demos import launch

GOOD, EVIL = "https://app.example", "https://evil.example"


def cors_app(**options: Any) -> Engine:
    app = Engine()
    app.use(cors(**options))

    @app.get("/data")
    async def data(c: Context) -> None:
        c.set_header("X-Total", "3")
        c.json(200, {"ok": True})

    @app.put("/data")
    async def put(c: Context) -> None:
        c.json(200, {"put": True})

    return app


async def ask(
    app: Engine, method: str, headers: list[tuple[str, str]]
) -> tuple[int, dict[str, str], Any]:
    request = Request(method, "/data", decode_path("/data"), "", [("Host", "t"), *headers], b"")
    response = await app.handle(request)
    assert response is not None
    found: dict[str, str] = {}
    for k, v in response.headers:
        found[k.lower()] = f"{found[k.lower()]}, {v}" if k.lower() in found else v
    return response.status, found, response.body


async def test_a_preflight_from_an_allowed_origin_is_answered() -> None:
    app = cors_app(allow_origins=[GOOD], allow_headers=["Content-Type", "X-Token"], max_age=60)
    status, headers, _ = await ask(
        app,
        "OPTIONS",
        [
            ("Origin", GOOD),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "content-type, x-token"),
        ],
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == GOOD and headers["vary"] == "Origin"
    assert "PUT" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "content-type, x-token"
    assert headers["access-control-max-age"] == "60"


async def test_preflights_that_ask_too_much_are_refused_by_name() -> None:
    app = cors_app(allow_origins=[GOOD], allow_methods=["GET"])
    for headers, says in (
        ([("Origin", EVIL), ("Access-Control-Request-Method", "GET")], b"origin"),
        ([("Origin", GOOD), ("Access-Control-Request-Method", "PUT")], b"method"),
        (
            [
                ("Origin", GOOD),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "x-secret"),
            ],
            b"headers",
        ),
    ):
        status, answer, body = await ask(app, "OPTIONS", headers)
        assert status == 400 and says in body
        assert "access-control-allow-origin" not in answer


async def test_simple_requests_credentials_and_strangers() -> None:
    app = cors_app(allow_origins=[GOOD], allow_credentials=True, expose_headers=["X-Total"])
    status, headers, body = await ask(app, "GET", [("Origin", GOOD)])
    assert status == 200 and json.loads(body) == {"ok": True}
    assert headers["access-control-allow-origin"] == GOOD
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-expose-headers"] == "X-Total"
    status, headers, _ = await ask(app, "GET", [("Origin", EVIL)])
    assert status == 200 and "access-control-allow-origin" not in headers  # the browser hides it
    assert headers["vary"] == "Origin"
    _, headers, _ = await ask(app, "GET", [])  # no Origin: not a CORS request
    assert "access-control-allow-origin" not in headers


async def test_any_origin_and_patterns() -> None:
    _, headers, _ = await ask(cors_app(allow_origins=["*"]), "GET", [("Origin", EVIL)])
    assert headers["access-control-allow-origin"] == "*" and "vary" not in headers
    with_credentials = cors_app(allow_origins=["*"], allow_credentials=True)
    _, headers, _ = await ask(with_credentials, "GET", [("Origin", EVIL)])
    assert headers["access-control-allow-origin"] == EVIL  # "*" is not allowed with them
    by_pattern = cors_app(allow_origin_regex=r"https://[a-z]+\.app\.example")
    _, headers, _ = await ask(by_pattern, "GET", [("Origin", "https://eu.app.example")])
    assert headers["access-control-allow-origin"] == "https://eu.app.example"
    _, headers, _ = await ask(by_pattern, "GET", [("Origin", "https://eu.app.example.evil")])
    assert "access-control-allow-origin" not in headers


async def test_custom_404_and_405_handlers() -> None:
    app = cors_app(allow_origins=[GOOD])

    @app.no_route
    async def not_found(c: Context) -> None:
        c.json(c.status_code, {"error": "no such page", "path": c.path})

    @app.no_method
    async def not_allowed(c: Context) -> None:
        c.json(c.status_code, {"error": "try another method"})

    missing = await app.handle(Request("GET", "/nope", decode_path("/nope"), "", [], b""))
    assert missing is not None and missing.status == 404
    assert json.loads(missing.body) == {"error": "no such page", "path": "/nope"}
    wrong = await app.handle(Request("DELETE", "/data", decode_path("/data"), "", [], b""))
    assert wrong is not None and wrong.status == 405
    allow = dict(wrong.headers)["Allow"].split(", ")
    assert "GET" in allow and "PUT" in allow and "DELETE" not in allow
    assert json.loads(wrong.body) == {"error": "try another method"}


# ------------------------------------------------------------------ in Chromium

PAGE = b"""<!doctype html><html><body><script>
async function tryIt(url, init) {
  try { const r = await fetch(url, init); return r.status + " " + (await r.text()); }
  catch (e) { return "blocked"; }
}
</script></body></html>"""


def from_another_origin(page_base: str, api_base: str) -> dict[str, str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(page_base + "/")
            put = {"method": "PUT", "headers": {"Content-Type": "application/json"}, "body": "{}"}
            return {
                "get": page.evaluate("u => tryIt(u)", f"{api_base}/data"),
                "put": page.evaluate("([u, i]) => tryIt(u, i)", [f"{api_base}/data", put]),
            }
        finally:
            browser.close()


async def test_a_page_of_another_origin_in_chromium(nursery: trio.Nursery) -> None:
    site = Engine()

    @site.get("/")
    async def index(c: Context) -> None:
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, PAGE)

    site_port = await nursery.start(site.serve, "127.0.0.1", 0)
    page_origin = f"http://127.0.0.1:{site_port}"
    # Two APIs on "localhost" (another origin than the page's 127.0.0.1): one allows
    # the page's origin, one only someone else's.
    allowing = cors_app(allow_origins=[page_origin], allow_headers=["Content-Type"])
    strict = cors_app(allow_origins=["https://someone.else"], allow_headers=["Content-Type"])
    allowing_port = await nursery.start(allowing.serve, "localhost", 0)
    strict_port = await nursery.start(strict.serve, "localhost", 0)
    seen = await trio.to_thread.run_sync(
        from_another_origin, page_origin, f"http://localhost:{allowing_port}"
    )
    assert seen == {"get": '200 {"ok":true}', "put": '200 {"put":true}'}  # PUT: preflighted
    blocked = await trio.to_thread.run_sync(
        from_another_origin, page_origin, f"http://localhost:{strict_port}"
    )
    assert blocked == {"get": "blocked", "put": "blocked"}
