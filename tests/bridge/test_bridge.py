"""The bridge without a browser: the sans-IO protocol, and a page played by a
trio-websocket client speaking what client.js speaks."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import trio_websocket

from geetrio.bridge import Bridge, Page, PageClosed
from geetrio.bridge.protocol import BadMessage, Call, Event, Reply, decode, encode
from geetrio.web import Engine
from tests.helpers import RawClient


def fib(n: int) -> int:
    return 1 if n < 2 else fib(n - 1) + fib(n - 2)


# ------------------------------------------------------------------ protocol


def test_messages_decode_into_their_kinds() -> None:
    assert decode('{"id": 1, "op": "reply", "value": 5}') == Reply(1, 5)
    assert decode('{"id": 2, "op": "error", "message": "no"}') == Reply(2, None, "no")
    assert decode('{"id": 3, "op": "call", "name": "fib", "args": [10]}') == Call(3, "fib", [10])
    assert decode('{"op": "event", "handler": 4, "event": {"type": "click"}}') == Event(
        4, {"type": "click"}
    )
    assert json.loads(encode({"op": "alert", "text": "é"})) == {"op": "alert", "text": "é"}


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"op": "eval", "code": "alert(1)"}',
        '{"op": "call", "id": 1}',
        '{"op": "call", "id": -1, "name": "fib"}',
        '{"op": "call", "id": 1, "name": "fib", "args": "x"}',
        '{"op": "reply"}',
        '{"op": "error", "id": 1}',
        '{"op": "event", "handler": 1, "event": 5}',
        "[" * 100_000,
        '{"op": "reply", "id": ' + "9" * 5000 + "}",
    ],
)
def test_anything_else_is_a_bad_message_closing_with_1003(text: str) -> None:
    with pytest.raises(BadMessage) as info:
        decode(text)
    assert info.value.code == 1003


def test_binary_is_not_part_of_the_protocol() -> None:
    with pytest.raises(BadMessage):
        decode(b"\x00")


# ------------------------------------------------------------------ over a WebSocket


class FakePage:
    """What client.js does, in Python: answers the server's operations from a fake DOM,
    calls functions, sends events."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.dom: dict[tuple[str, str], Any] = {("#num", "value"): "10"}
        self.log: list[dict[str, Any]] = []
        self.results: dict[int, dict[str, Any]] = {}
        self.ready = trio.Event()
        self.changed = trio.Event()
        self.answer_gets = True
        self.next_id = 1

    async def serve(self) -> None:
        try:
            while True:
                message = json.loads(await self.ws.get_message())
                await self.handle(message)
        except trio_websocket.ConnectionClosed:
            pass

    async def handle(self, m: dict[str, Any]) -> None:
        self.log.append(m)
        if m["op"] in ("result", "fail"):
            self.results[m["id"]] = m
            self.changed.set()
            return
        value: Any = None
        if m["op"] == "get":
            if not self.answer_gets:
                return  # the tab never answers
            value = self.dom.get((m["selector"], m["prop"]))
        elif m["op"] == "set":
            self.dom[m["selector"], m["prop"]] = m["value"]
            self.changed.set()
        elif m["op"] == "ready":
            self.ready.set()
        elif m["op"] == "callback":
            self.dom["callback", str(m["callback"])] = m["args"]
            self.changed.set()
        await self.ws.send_message(json.dumps({"id": m["id"], "op": "reply", "value": value}))

    async def call(self, name: str, *args: Any) -> dict[str, Any]:
        number, self.next_id = self.next_id, self.next_id + 1
        await self.ws.send_message(
            json.dumps({"id": number, "op": "call", "name": name, "args": list(args)})
        )
        while number not in self.results:
            self.changed = trio.Event()
            await self.changed.wait()
        return self.results[number]

    async def wait_for(self, key: tuple[str, str]) -> Any:
        while key not in self.dom:
            self.changed = trio.Event()
            await self.changed.wait()
        return self.dom[key]


@pytest.fixture
async def app_port(nursery: trio.Nursery) -> tuple[Bridge, int]:
    bridge = Bridge(max_message_bytes=4096)
    bridge.function(fib)

    @bridge.function
    async def boom(message: str) -> None:
        raise RuntimeError(message)

    @bridge.function(name="fibLater")
    async def fib_later(n: int, callback: Any) -> str:
        await trio.sleep(0.01)  # a slow answer, through the page's callback
        await callback(fib(n))
        return "called back"

    @bridge.page("hello-world")
    async def hello(page: Page) -> None:
        await page.alert("Hello World!")

    @bridge.page("manipulate-dom")
    async def manipulate(page: Page) -> None:
        async def clicked(event: dict[str, Any]) -> None:
            n = int(await page.get("#num", "value"))
            await page.set("#ans", "innerHTML", str(fib(n)))

        page.on("#btn", "click", clicked)

    app = Engine()
    bridge.mount(app)
    return bridge, await nursery.start(app.serve, "127.0.0.1", 0)


@asynccontextmanager
async def fake_page(port: int, name: str) -> AsyncIterator[FakePage]:
    async with (
        trio_websocket.open_websocket(
            "127.0.0.1", port, f"/_bridge/ws?page={name}", use_ssl=False
        ) as ws,
        trio.open_nursery() as nursery,
    ):
        page = FakePage(ws)
        nursery.start_soon(page.serve)
        yield page
        nursery.cancel_scope.cancel()


async def test_hello_world_alerts_then_is_ready(app_port: tuple[Bridge, int]) -> None:
    _, port = app_port
    async with fake_page(port, "hello-world") as page:
        with trio.fail_after(5):
            await page.ready.wait()
        assert [m["op"] for m in page.log] == ["alert", "ready"]
        assert page.log[0]["text"] == "Hello World!"


async def test_the_page_calls_registered_functions(
    app_port: tuple[Bridge, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = app_port
    async with fake_page(port, "register-functions") as page:
        with trio.fail_after(5):
            assert (await page.call("fib", 10)) == {"id": 1, "op": "result", "value": 89}
            missing = await page.call("eval", "alert(1)")
            assert missing["op"] == "fail" and "no function 'eval'" in missing["message"]
            failed = await page.call("boom", "kaboom")
            assert (failed["op"], failed["message"]) == ("fail", "kaboom")  # a rejected promise
    assert any("boom" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_slow_function_answers_through_a_js_callback(app_port: tuple[Bridge, int]) -> None:
    _, port = app_port
    async with fake_page(port, "callback") as page:
        with trio.fail_after(5):
            done = await page.call("fibLater", 10, {"$callback": 7})
            assert await page.wait_for(("callback", "7")) == [89]  # cb(fib(10))
            assert done["value"] == "called back"


async def test_python_listens_to_the_dom_and_writes_it(app_port: tuple[Bridge, int]) -> None:
    _, port = app_port
    async with fake_page(port, "manipulate-dom") as page:
        with trio.fail_after(5):
            await page.ready.wait()
            on = next(m for m in page.log if m["op"] == "on")
            assert (on["selector"], on["event"]) == ("#btn", "click")
            await page.ws.send_message(
                json.dumps({"op": "event", "handler": on["handler"], "event": {"type": "click"}})
            )
            assert await page.wait_for(("#ans", "innerHTML")) == "89"


def masked(payload: bytes, opcode: int = 0x1) -> bytes:
    """A client frame of any size (the server expects clients to mask)."""
    mask = os.urandom(4)
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    if len(payload) < 126:
        head = bytes([0x80 | opcode, 0x80 | len(payload)])
    else:
        head = bytes([0x80 | opcode, 0x80 | 126]) + len(payload).to_bytes(2, "big")
    return head + mask + data


async def test_a_foreign_origin_is_refused(app_port: tuple[Bridge, int]) -> None:
    _, port = app_port
    client = await RawClient.connect(port)
    response = await client.request(
        HANDSHAKE.format(path="/_bridge/ws?page=hello-world", origin="http://evil.example").encode()
    )
    assert response.status == 403  # cross-site WebSocket hijacking refused
    await client.aclose()
    async with fake_page(port, "hello-world") as page:  # the server is fine
        with trio.fail_after(5):
            await page.ready.wait()


HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("x" * 10_000, 1009),
        ("{not json", 1003),
        ("[" * 3000, 1003),  # deeper than the recursion limit: json raises RecursionError
    ],
)
async def test_bad_messages_close_only_their_connection(
    app_port: tuple[Bridge, int], message: str, code: int
) -> None:
    _, port = app_port
    async with fake_page(port, "register-functions") as other:
        raw = await RawClient.connect(port)  # a hand-driven client: exact frames
        opened = await raw.request(
            HANDSHAKE.format(path="/_bridge/ws?page=x", origin="http://localhost").encode()
        )
        assert opened.status == 101
        await raw.send(masked(message.encode()))
        with trio.fail_after(5):
            data = raw.buffer + await raw.read_until_eof()
        close = data.rfind(b"\x88")
        assert close >= 0 and int.from_bytes(data[close + 2 : close + 4], "big") == code
        with trio.fail_after(5):
            assert (await other.call("fib", 5))["value"] == 8  # the other tab is untouched


async def test_a_tab_closed_mid_call_ends_its_work(app_port: tuple[Bridge, int]) -> None:
    bridge, port = app_port
    outcome: list[str] = []

    @bridge.page("stuck")
    async def stuck(page: Page) -> None:
        try:
            await page.get("#num", "value")  # the tab never answers, then closes
        except PageClosed:
            outcome.append("page closed")
            raise

    async with fake_page(port, "stuck") as page:
        page.answer_gets = False
        with trio.fail_after(5):
            while not page.log:
                await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    with trio.fail_after(5):
        while bridge.connected:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    assert outcome == ["page closed"]
    async with fake_page(port, "hello-world") as again:  # and the server goes on
        with trio.fail_after(5):
            await again.ready.wait()


async def test_the_js_client_is_served(app_port: tuple[Bridge, int]) -> None:
    _, port = app_port
    client = await RawClient.connect(port)
    response = await client.request(b"GET /_bridge/client.js HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response.status == 200 and response.headers["content-type"].startswith("text/javascript")
    assert b"window.geetrio" in response.body and b"eval(" not in response.body
    await client.aclose()


def test_logging_goes_through_the_bridge_logger() -> None:
    assert logging.getLogger("geetrio.bridge").name == "geetrio.bridge"


async def test_pages_are_tasks_of_the_bridge_and_end_with_it(nursery: trio.Nursery) -> None:
    bridge = Bridge()
    app = Engine()
    bridge.mount(app)

    @bridge.page("forever")
    async def forever(page: Page) -> None:
        await page.ready()
        await trio.sleep_forever()

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    leave = trio.Event()

    async def hold_bridge(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with bridge:
            task_status.started()
            await leave.wait()

    await nursery.start(hold_bridge)
    raw = await RawClient.connect(port)  # hand-driven: the server closes first here
    opened = await raw.request(
        HANDSHAKE.format(path="/_bridge/ws?page=forever", origin="http://localhost").encode()
    )
    assert opened.status == 101
    with trio.fail_after(5):
        while bridge.connected == 0:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    leave.set()  # leaving `async with bridge` ends every page
    with trio.fail_after(5):
        data = raw.buffer + await raw.read_until_eof()
    close = data.rfind(b"\x88")
    assert close >= 0 and int.from_bytes(data[close + 2 : close + 4], "big") == 1000
    assert bridge.connected == 0


async def test_a_page_over_mutual_tls_knows_who_opened_it(
    nursery: trio.Nursery, pki: dict[str, Path]
) -> None:
    from geetrio.http import ServerConfig, client_ssl_context, server_ssl_context

    bridge = Bridge()
    seen: list[tuple[Any, str]] = []

    @bridge.page("who")
    async def who(page: Page) -> None:
        seen.append((page.peer_certificate, page.remote_addr))
        await page.alert("hello")

    app = Engine()
    bridge.mount(app)
    tls = server_ssl_context(pki["server"], client_ca=pki["ca"])
    port = await nursery.start(
        partial(app.serve, "127.0.0.1", 0, config=ServerConfig(ssl_context=tls))
    )
    ours = client_ssl_context(pki["ca"], certfile=pki["client"])
    async with trio_websocket.open_websocket(
        "127.0.0.1", port, "/_bridge/ws?page=who", use_ssl=ours
    ) as ws:
        assert json.loads(await ws.get_message())["op"] == "alert"
    ((certificate, remote),) = seen
    assert certificate["subjectAltName"] == (("email", "client@example.com"),)
    assert remote.startswith("127.0.0.1:")
