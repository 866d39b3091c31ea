"""WebSocket routes on the app's own port, driven by trio-websocket's client."""

from __future__ import annotations

import os

import pytest
import trio
import trio_websocket

from geetrio.web import Context, Engine
from tests.helpers import RawClient, get


@pytest.fixture
async def app_port(nursery: trio.Nursery) -> tuple[Engine, int, list[str]]:
    seen: list[str] = []
    app = Engine()
    app.finished = trio.Event()  # type: ignore[attr-defined]

    async def record(c: Context) -> None:
        seen.append(f"mw {c.path}")
        await c.next()
        seen.append(f"mw done {c.status_code}")
        if c.path == "/ws/echo":
            app.finished.set()  # type: ignore[attr-defined]

    app.use(record)

    @app.websocket("/ws/echo")
    async def echo(c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        while True:
            message = await ws.get_message()
            if message == "bye":
                return
            await ws.send_message(f"echo: {message}")

    @app.websocket("/ws/boom")
    async def boom(c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        await ws.get_message()
        raise RuntimeError("handler bug")

    guarded = app.group("/private")

    async def auth(c: Context) -> None:
        if c.query("token") != "secret":
            c.fail(401, "bad token")

    guarded.use(auth)

    @guarded.websocket("/ws")
    async def private(c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        await ws.send_message(f"welcome {c.query('token')}")
        await ws.get_message()  # stay until the client closes

    @app.get("/plain")
    async def plain(c: Context) -> None:
        c.string(200, "plain")

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    return app, port, seen


HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def raw_websocket(port: int, path: str) -> RawClient:
    """A hand-driven WebSocket client: exact bytes, no library between us and the server.
    (trio-websocket's client leaks its socket when the server closes first: its reader
    is cancelled before it reads the TCP close it waits for.)"""
    client = await RawClient.connect(port)
    response = await client.request(HANDSHAKE.format(path=path).encode())
    assert response.status == 101, response
    assert response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    return client


async def read_frame(client: RawClient) -> tuple[int, bytes]:
    while len(client.buffer) < 2:
        assert await client._fill()
    opcode, length = client.buffer[0] & 0x0F, client.buffer[1] & 0x7F
    assert length < 126 and not client.buffer[1] & 0x80  # small, unmasked from a server
    while len(client.buffer) < 2 + length:
        assert await client._fill()
    payload, client.buffer = client.buffer[2 : 2 + length], client.buffer[2 + length :]
    return opcode, payload


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def masked_text_frame(text: str) -> bytes:
    return masked_frame(text.encode())


async def expect_close(client: RawClient, code: int) -> None:
    opcode, payload = await read_frame(client)
    assert opcode == 0x8
    assert int.from_bytes(payload[:2], "big") == code
    await client.send(masked_frame(payload[:2], opcode=0x8))  # answer the close
    assert await client.read_until_eof() == b""  # and the server closes TCP


async def test_echo_then_handler_return_closes_with_1000(
    app_port: tuple[Engine, int, list[str]],
) -> None:
    app, port, seen = app_port
    client = await raw_websocket(port, "/ws/echo")
    for i in range(3):
        await client.send(masked_text_frame(f"hello {i}"))
        assert await read_frame(client) == (0x1, f"echo: hello {i}".encode())
    await client.send(masked_text_frame("bye"))
    await expect_close(client, 1000)
    await app.finished.wait()  # type: ignore[attr-defined]
    assert seen == ["mw /ws/echo", "mw done 101"]  # middleware wrapped the session


async def test_echo_with_trio_websocket_client(app_port: tuple[Engine, int, list[str]]) -> None:
    _, port, _ = app_port
    async with trio_websocket.open_websocket("127.0.0.1", port, "/ws/echo", use_ssl=False) as ws:
        for i in range(3):
            await ws.send_message(f"hello {i}")
            assert await ws.get_message() == f"echo: hello {i}"
        await ws.send_message("ünïcödé ✓")
        assert await ws.get_message() == "echo: ünïcödé ✓"


async def test_handler_error_closes_with_1011(
    app_port: tuple[Engine, int, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    _, port, _ = app_port
    client = await raw_websocket(port, "/ws/boom")
    await client.send(masked_text_frame("trigger"))
    await expect_close(client, 1011)
    assert any("handler bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_group_middleware_can_refuse_the_upgrade(
    app_port: tuple[Engine, int, list[str]],
) -> None:
    _, port, _ = app_port
    client = await RawClient.connect(port)
    response = await client.request(HANDSHAKE.format(path="/private/ws?token=wrong").encode())
    assert response.status == 401
    assert response.body == b'{"message":"bad token"}'
    await client.aclose()
    async with trio_websocket.open_websocket(
        "127.0.0.1", port, "/private/ws?token=secret", use_ssl=False
    ) as ws:
        assert await ws.get_message() == "welcome secret"


async def test_plain_get_on_a_websocket_route_is_426(
    app_port: tuple[Engine, int, list[str]],
) -> None:
    _, port, _ = app_port
    client = await RawClient.connect(port)
    response = await client.request(get("/ws/echo"))
    assert response.status == 426
    assert (await client.request(get("/plain"))).body == b"plain"  # connection still fine
    await client.aclose()


async def test_bytes_right_after_the_upgrade_request_do_not_break_anything(
    app_port: tuple[Engine, int, list[str]],
) -> None:
    """A frame in the same packet as the handshake (hypercorn #225): RFC 6455 §4.1
    forbids it, wsproto drops it, and the session and server carry on."""
    _, port, _ = app_port
    client = await RawClient.connect(port)
    await client.send(HANDSHAKE.format(path="/ws/echo").encode() + masked_text_frame("too early"))
    response = await client.read_response(head=True)
    assert response.status == 101
    assert response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    await client.send(masked_text_frame("on time"))
    expected = b"echo: on time"
    while len(client.buffer) < 2 + len(expected):
        assert await client._fill()
    assert client.buffer == bytes([0x81, len(expected)]) + expected
    await client.aclose()
    async with trio_websocket.open_websocket("127.0.0.1", port, "/ws/echo", use_ssl=False) as ws:
        await ws.send_message("next client")
        assert await ws.get_message() == "echo: next client"


async def test_many_sessions_at_once(app_port: tuple[Engine, int, list[str]]) -> None:
    _, port, _ = app_port

    async def session(i: int) -> None:
        async with trio_websocket.open_websocket(
            "127.0.0.1", port, "/ws/echo", use_ssl=False
        ) as ws:
            await ws.send_message(str(i))
            assert await ws.get_message() == f"echo: {i}"

    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(session, i)
