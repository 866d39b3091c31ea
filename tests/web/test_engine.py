"""Gee semantics through ``Engine.handle`` (no socket): chain, groups, Context."""

from __future__ import annotations

import json
import logging

import pytest

from geetrio.web import Context, Engine, logger, recovery
from tests.helpers import call, header


def recorder(log: list[str], name: str):  # type: ignore[no-untyped-def]
    async def middleware(c: Context) -> None:
        log.append(f"{name} in")
        await c.next()
        log.append(f"{name} out")

    return middleware


async def test_middleware_order_and_code_after_next() -> None:
    log: list[str] = []
    app = Engine()
    app.use(recorder(log, "engine"))
    v1 = app.group("/v1")
    v1.use(recorder(log, "v1"))
    v2 = v1.group("/v2")
    v2.use(recorder(log, "v2"))

    @v2.get("/hello")
    async def hello(c: Context) -> None:
        log.append("handler")
        c.string(200, "hi")

    response = await call(app, "GET", "/v1/v2/hello")
    assert response.body == b"hi"
    assert log == ["engine in", "v1 in", "v2 in", "handler", "v2 out", "v1 out", "engine out"]


async def test_use_after_routes_applies_too() -> None:
    log: list[str] = []
    app = Engine()
    v1 = app.group("/v1")

    @v1.get("/x")
    async def x(c: Context) -> None:
        log.append("handler")

    await call(app, "GET", "/v1/x")
    v1.use(recorder(log, "late-group"))
    app.use(recorder(log, "late-engine"))
    log.clear()
    await call(app, "GET", "/v1/x")
    assert log == [
        "late-engine in",
        "late-group in",
        "handler",
        "late-group out",
        "late-engine out",
    ]


async def test_group_middleware_follows_the_route_not_the_path_prefix() -> None:
    log: list[str] = []
    app = Engine()
    v1 = app.group("/v1")
    v1.use(recorder(log, "v1"))

    @app.get("/v10/x")
    async def v10(c: Context) -> None:
        c.string(200, "v10")

    @v1.get("/x")
    async def v1x(c: Context) -> None:
        c.string(200, "v1")

    assert (await call(app, "GET", "/v10/x")).body == b"v10"
    assert log == []  # /v1 does not cover /v10
    assert (await call(app, "GET", "/v1/x")).body == b"v1"
    assert log == ["v1 in", "v1 out"]


async def test_a_middleware_without_next_lets_the_chain_continue() -> None:
    seen: list[str] = []
    app = Engine()

    async def passive(c: Context) -> None:
        seen.append("passive")

    app.use(passive, passive)

    @app.get("/")
    async def index(c: Context) -> None:
        seen.append("handler")
        c.string(200, "ok")

    assert (await call(app, "GET", "/")).body == b"ok"
    assert seen == ["passive", "passive", "handler"]


async def test_fail_stops_later_handlers_but_not_the_current_function() -> None:
    seen: list[str] = []
    app = Engine()

    async def auth(c: Context) -> None:
        c.fail(401, "who are you?")
        seen.append("after fail, same function")
        await c.next()  # does nothing once aborted
        seen.append("after next")

    app.use(auth)

    @app.get("/secret")
    async def secret(c: Context) -> None:
        seen.append("handler")  # never runs

    response = await call(app, "GET", "/secret")
    assert response.status == 401
    assert json.loads(response.body) == {"message": "who are you?"}
    assert seen == ["after fail, same function", "after next"]


async def test_abort_in_a_middleware_after_next_keeps_the_response() -> None:
    app = Engine()

    async def stamp(c: Context) -> None:
        await c.next()
        c.set_header("X-Stamped", "yes")

    app.use(stamp)

    @app.get("/")
    async def index(c: Context) -> None:
        c.abort()
        c.string(202, "accepted")

    response = await call(app, "GET", "/")
    assert (response.status, response.body) == (202, b"accepted")
    assert header(response, "x-stamped") == "yes"


async def test_not_found_runs_engine_middleware_and_has_the_gee_body() -> None:
    log: list[str] = []
    app = Engine()
    app.use(recorder(log, "engine"))
    response = await call(app, "GET", "/no/such%20thing?x=1")
    assert response.status == 404
    assert response.body == b"404 NOT FOUND: /no/such thing\n"
    assert log == ["engine in", "engine out"]


async def test_method_not_allowed_lists_allowed_methods() -> None:
    app = Engine()

    @app.get("/item/:id")
    async def get_item(c: Context) -> None: ...

    @app.delete("/item/:id")
    async def delete_item(c: Context) -> None: ...

    response = await call(app, "POST", "/item/3")
    assert response.status == 405
    assert header(response, "allow") == "DELETE, GET, HEAD"


async def test_recovery_answers_500_logs_the_traceback_and_serving_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Engine()
    app.use(recovery())

    @app.get("/panic")
    async def panic(c: Context) -> None:
        c.set_header("X-Half", "done")
        names = ["geektutu"]
        c.string(200, names[100])

    @app.get("/ok")
    async def ok(c: Context) -> None:
        c.string(200, "fine")

    response = await call(app, "GET", "/panic")
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}
    assert header(response, "x-half") is None
    assert (await call(app, "GET", "/ok")).body == b"fine"
    [record] = [r for r in caplog.records if r.name == "geetrio.web"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "IndexError" in record.getMessage()


async def test_logger_middleware_logs_status_path_and_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="geetrio.web")
    app = Engine()
    app.use(logger())

    @app.get("/x")
    async def x(c: Context) -> None:
        c.status(204)

    await call(app, "GET", "/x?y=1")
    [record] = [r for r in caplog.records if r.name == "geetrio.web"]
    assert record.getMessage().startswith("[204] /x?y=1 in ")
    assert record.getMessage().endswith("ms")


async def test_decorators_and_direct_registration_for_every_method() -> None:
    app = Engine()
    for method in ("get", "post", "put", "delete", "patch", "head", "options"):

        async def handler(c: Context, m: str = method) -> None:
            c.string(200, m)

        assert getattr(app, method)("/m", handler) is handler

    @app.add_route("PROPFIND", "/dav")
    async def dav(c: Context) -> None:
        c.string(207, "multi")

    for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
        assert (await call(app, method, "/m")).body == method.lower().encode()
    assert (await call(app, "PROPFIND", "/dav")).status == 207


def test_group_prefix_must_start_with_a_slash_and_a_trailing_one_is_dropped() -> None:
    with pytest.raises(ValueError, match="v1"):
        Engine().group("v1")
    assert Engine().group("/v1/").group("/v2/").prefix == "/v1/v2"


def test_route_conflicts_surface_at_registration() -> None:
    app = Engine()

    @app.get("/users/:id")
    async def a(c: Context) -> None: ...

    with pytest.raises(ValueError, match="/users/:name"):

        @app.get("/users/:name")
        async def b(c: Context) -> None: ...
