"""Gee under clients that go away: open files are closed whatever happens; a static
folder at the file-system root; WebSocket peers that stop answering."""

from __future__ import annotations

import gc
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing
import trio_websocket

from geetrio.web import Context, Engine
from tests.helpers import RawClient, get

BIG = 4 * 1024 * 1024  # streamed, not read in one go


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Only reference counting and explicit closes may free anything."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.fixture
async def file_port(tmp_path: Path, nursery: trio.Nursery) -> int:
    (tmp_path / "big.bin").write_bytes(b"b" * BIG)
    app = Engine()

    async def meddle(c: Context) -> None:
        await c.next()
        if c.query("replace"):
            c.string(200, "replaced")  # drops the file stream the handler set
        if c.query("reset"):
            c.reset_response()
            c.string(503, "reset")
        if c.query("boom"):
            raise RuntimeError("after the file was opened")

    app.use(meddle)
    app.static("/files", tmp_path)
    return await nursery.start(app.serve, "127.0.0.1", 0)


async def reset_after(port: int, target: str, read: int) -> None:
    """Ask for ``target``, read ``read`` bytes, then reset the connection (RST)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(get(target))
    got = 0
    while got < read:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        got += len(chunk)
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.aclose()


async def wait_for_descriptors(baseline: int) -> None:
    with trio.fail_after(10):  # polls an outcome; the deadline is the failure
        while open_descriptors() > baseline:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)


async def test_files_are_closed_when_clients_reset(file_port: int, no_gc: None) -> None:
    baseline = open_descriptors()  # no connection open yet
    client = await RawClient.connect(file_port)
    assert len((await client.request(get("/files/big.bin"))).body) == BIG  # it works
    await client.aclose()
    for read in (0, 1, 100_000, 1_000_000):  # before, during the head, in the body
        for _ in range(25):
            await reset_after(file_port, "/files/big.bin", read)
    await wait_for_descriptors(baseline)
    assert open_descriptors() == baseline


@pytest.mark.parametrize(
    ("query", "status"), [("replace=1", 200), ("reset=1", 503), ("boom=1", 500)]
)
async def test_a_replaced_file_answer_closes_its_file(
    file_port: int, no_gc: None, query: str, status: int
) -> None:
    baseline = open_descriptors()  # no connection open yet
    client = await RawClient.connect(file_port)
    for _ in range(20):
        response = await client.request(get(f"/files/big.bin?{query}"))
        assert response.status == status and len(response.body) < 100
        if response.headers.get("connection") == "close":
            await client.aclose()
            client = await RawClient.connect(file_port)
    await client.aclose()
    await wait_for_descriptors(baseline)
    assert open_descriptors() == baseline


async def test_static_can_serve_the_file_system_root(tmp_path: Path, nursery: trio.Nursery) -> None:
    (tmp_path / "hello.txt").write_text("hello from the root")
    app = Engine()
    app.static("/fs", "/")
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    response = await client.request(get(f"/fs{tmp_path}/hello.txt"))
    assert (response.status, response.body) == (200, b"hello from the root")
    assert (await client.request(get("/fs/"))).status == 404  # still no listings
    await client.aclose()


# ------------------------------------------------------------------ WebSocket keepalive


@pytest.fixture
async def ws_app(nursery: trio.Nursery) -> tuple[int, list[str]]:
    ended: list[str] = []
    app = Engine()

    @app.websocket("/ws", ping_interval=0.05, idle_timeout=0.2)
    async def echo(c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        try:
            while True:
                await ws.send_message(await ws.get_message())
        finally:
            ended.append("ended")

    return await nursery.start(app.serve, "127.0.0.1", 0), ended


HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def test_a_peer_that_never_answers_pings_is_closed(ws_app: tuple[int, list[str]]) -> None:
    port, ended = ws_app
    client = await RawClient.connect(port)
    await client.send(HANDSHAKE.encode())
    assert (await client.read_response(head=True)).status == 101
    # Never answer: the server pings, waits idle_timeout, closes with 1001.
    data = client.buffer + await client.read_until_eof()
    close_frames = [i for i in range(len(data) - 3) if data[i] == 0x88]
    assert close_frames, data
    start = close_frames[-1]
    assert struct.unpack("!H", data[start + 2 : start + 4]) == (1001,)
    assert data.count(b"\x89") >= 1  # it pinged first
    assert ended == ["ended"]  # the handler was cancelled


async def test_a_peer_that_answers_pings_stays(ws_app: tuple[int, list[str]]) -> None:
    port, _ = ws_app
    async with trio_websocket.open_websocket("127.0.0.1", port, "/ws", use_ssl=False) as ws:
        await trio.sleep(0.6)  # lets several ping intervals and idle timeouts pass
        await ws.send_message("still here")
        assert await ws.get_message() == "still here"  # the server kept it open


def test_websocket_keepalive_settings_are_validated() -> None:
    app = Engine()
    with pytest.raises(ValueError, match="ping_interval"):
        app.websocket("/a", ping_interval=0)(lambda c, ws: None)
    with pytest.raises(ValueError, match="idle_timeout"):
        app.websocket("/b", idle_timeout=-1)(lambda c, ws: None)
