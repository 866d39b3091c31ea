"""The HTTP trust boundary: trailers kept apart from headers and bounded, pipelined
requests answered before the malformed bytes after them, control characters refused
in response headers, user input escaped in log lines."""

from __future__ import annotations

import logging
from functools import partial

import pytest
import trio

from geetrio.web import Context, Engine, logger, recovery
from tests.helpers import RawClient, get


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    app = Engine()
    app.use(logger(), recovery())

    @app.get("/boom/*rest")
    async def boom(c: Context) -> None:
        raise RuntimeError("boom")

    @app.post("/echo")
    async def echo(c: Context) -> None:
        c.json(
            200,
            {
                "role": c.headers.get("x-role"),
                "auth": c.headers.get("authorization"),
                "trailers": dict(c.trailers.items()),
                "body": c.body.decode(),
            },
        )

    @app.get("/fine")
    async def fine(c: Context) -> None:
        c.string(200, "fine")

    @app.get("/set")
    async def set_header(c: Context) -> None:
        try:
            c.set_header("x-value", f"a{chr(int(c.query('c')))}b")
        except ValueError:
            c.string(200, "refused")
        else:
            c.string(200, "accepted")

    @app.get("/header")
    async def bad_header(c: Context) -> None:
        c.response_headers.append(("x-bad", "a\x00b"))  # past set_header's check
        c.string(200, "never sent")

    return await nursery.start(app.serve, "127.0.0.1", 0)


CHUNKED = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"


async def test_trailers_never_become_headers(port: int) -> None:
    client = await RawClient.connect(port)
    response = await client.request(
        CHUNKED + b"3\r\nabc\r\n0\r\nX-Role: admin\r\nAuthorization: Bearer forged\r\n\r\n"
    )
    assert response.status == 200
    import json

    assert json.loads(response.body) == {
        "role": None,
        "auth": None,
        "trailers": {"x-role": "admin", "authorization": "Bearer forged"},
        "body": "abc",
    }
    await client.aclose()


async def test_an_endless_trailer_line_is_refused_like_a_header(port: int) -> None:
    client = await RawClient.connect(port)
    await client.send(CHUNKED + b"3\r\nabc\r\n0\r\nX-Endless: ")
    answer = b""
    with trio.fail_after(10):
        try:
            for _ in range(64):  # up to 4 MiB; the limit is 64 KiB
                await client.send(b"a" * 65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # closed on us: the answer is already in
        answer = await client.read_until_eof()
    assert answer.startswith(b"HTTP/1.1 431 ")
    other = await RawClient.connect(port)
    assert (await other.request(get("/fine"))).body == b"fine"
    await other.aclose()


async def test_trailers_count_against_the_header_limit(port: int) -> None:
    client = await RawClient.connect(port)
    many = b"".join(b"X-T%d: %s\r\n" % (i, b"v" * 1000) for i in range(80))  # 80 KB of fields
    response = await client.request(CHUNKED + b"0\r\n" + many + b"\r\n")
    assert response.status == 431
    await client.aclose()


async def test_a_valid_request_before_a_malformed_one_is_answered_first(port: int) -> None:
    client = await RawClient.connect(port)
    smuggled = (
        b"GET /fine HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    await client.send(get("/fine") + get("/fine") + smuggled)
    first = await client.read_response()
    second = await client.read_response()
    third = await client.read_response()
    assert (first.status, first.body, second.body) == (200, b"fine", b"fine")
    assert third.status == 400 and third.headers["connection"] == "close"
    await client.aclose()


async def test_bytes_after_connection_close_do_not_cost_the_answer(port: int) -> None:
    client = await RawClient.connect(port)
    await client.send(get("/fine", extra="Connection: close\r\n") + b"GARBAGE / HTTP/9\r\n\r\n")
    response = await client.read_response()
    assert (response.status, response.body) == (200, b"fine")
    assert response.headers["connection"] == "close"
    await client.aclose()


async def test_set_header_refuses_control_characters(port: int) -> None:
    client = await RawClient.connect(port)
    for code in (*range(0x20), 0x7F):
        response = await client.request(get(f"/set?c={code}"))
        expected = b"accepted" if code == 0x09 else b"refused"  # HTAB alone is allowed
        assert response.body == expected, hex(code)
    await client.aclose()


async def test_a_control_character_never_reaches_the_wire(port: int) -> None:
    client = await RawClient.connect(port)
    response = await client.request(get("/header"))
    assert response.status == 500
    assert b"\x00" not in response.body and "x-bad" not in response.headers
    await client.aclose()


async def test_user_input_cannot_forge_log_lines(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geetrio")
    client = await RawClient.connect(port)
    await client.request(get("/boom/x%0a2026-12-06%20INFO%20forged%0d"))
    await client.aclose()
    lines = [r.getMessage() for r in caplog.records if "forged" in r.getMessage()]
    assert lines and all("\n" not in line and "\r" not in line for line in lines)


async def test_a_full_server_closes_its_oldest_idle_connection_for_a_new_client(
    nursery: trio.Nursery,
) -> None:
    from geetrio.http import ServerConfig

    app = Engine()

    @app.get("/fine")
    async def fine(c: Context) -> None:
        c.string(200, "fine")

    config = ServerConfig(max_connections=2, keep_alive_timeout=300.0)
    port = await nursery.start(partial(app.serve, "127.0.0.1", 0, config=config))
    held = [await RawClient.connect(port) for _ in range(2)]
    for client in held:
        assert (await client.request(get("/fine"))).status == 200  # now idle, kept alive
    newcomer = await RawClient.connect(port)
    with trio.fail_after(5):
        assert (await newcomer.request(get("/fine"))).body == b"fine"
        assert await held[0].read_until_eof() == b""  # the oldest idle one made room
    assert (await held[1].request(get("/fine"))).status == 200  # the other stays
    for client in (held[1], newcomer):
        await client.aclose()
