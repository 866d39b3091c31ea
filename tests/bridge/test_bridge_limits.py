"""One page must not exhaust the process: calls in flight per tab bounded, a closed tab a
quiet end, the Host checked (DNS rebinding), the transport's buffer near the cap."""

from __future__ import annotations

import json
import logging

import pytest
import trio
import trio.testing
import trio_websocket

from geetrio.bridge import Bridge
from geetrio.web import Engine
from tests.bridge.test_bridge import HANDSHAKE, app_port, fake_page
from tests.helpers import RawClient

__all__ = ["app_port"]  # a fixture, used by name


async def test_calls_in_flight_per_page_are_bounded_and_a_closed_page_ends_quietly(
    app_port: tuple[Bridge, int], caplog: pytest.LogCaptureFixture
) -> None:
    """fibLater with callbacks the page never answers, 200 times: 64 run, the rest are
    refused at once; closing the tab ends them without a traceback."""
    bridge, port = app_port
    caplog.set_level(logging.DEBUG, logger="geetrio.bridge")
    answers: dict[int, dict[str, object]] = {}
    async with trio_websocket.open_websocket(
        "127.0.0.1", port, "/_bridge/ws?page=flood", use_ssl=False
    ) as ws:
        for number in range(1, 201):
            call = {"id": number, "op": "call", "name": "fibLater", "args": [5, {"$callback": 1}]}
            await ws.send_message(json.dumps(call))
        with trio.fail_after(10):
            while len(answers) < 200 - bridge.max_calls_per_page:
                message = json.loads(await ws.get_message())
                if message.get("op") == "fail":
                    answers[message["id"]] = message
    assert all("too many calls in flight" in str(a["message"]) for a in answers.values())
    assert bridge.max_calls_per_page == 64
    with trio.fail_after(5):
        while bridge.connected:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    assert not [r for r in caplog.records if r.exc_info is not None]  # no tracebacks
    async with fake_page(port, "register-functions") as other:  # the bridge goes on
        with trio.fail_after(5):
            assert (await other.call("fib", 5))["value"] == 8


async def handshake(port: int, host: str, origin: str) -> int:
    raw = await RawClient.connect(port)
    request = HANDSHAKE.format(path="/_bridge/ws?page=x", origin=origin)
    response = await raw.request(request.replace("Host: localhost", f"Host: {host}").encode())
    await raw.aclose()
    return response.status


async def test_the_host_is_checked_against_dns_rebinding(nursery: trio.Nursery) -> None:
    app = Engine()
    Bridge().mount(app)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    assert await handshake(port, f"evil:{port}", f"http://evil:{port}") == 403
    assert await handshake(port, "evil", "http://evil") == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert await handshake(port, host, f"http://{host}") == 101, host
    named = Engine()
    Bridge(allowed_hosts=["games.example"]).mount(named)
    named_port = await nursery.start(named.serve, "127.0.0.1", 0)
    assert await handshake(named_port, "games.example:80", "http://games.example:80") == 101
    assert await handshake(named_port, f"localhost:{named_port}", "http://x") == 403


def frame_head(length: int) -> bytes:
    """A masked text frame's head declaring ``length`` bytes (64-bit length form); the
    mask is zero, so the payload goes as it is."""
    return bytes([0x81, 0x80 | 127]) + length.to_bytes(8, "big") + bytes(4)


async def test_the_transport_buffers_little_more_than_the_cap(app_port: tuple[Bridge, int]) -> None:
    """A message declared at 16 MiB is cut off once cap + margin arrived (the cap is
    4 KiB here), not buffered to the end."""
    bridge, port = app_port
    raw = await RawClient.connect(port)
    opened = await raw.request(
        HANDSHAKE.format(path="/_bridge/ws?page=x", origin="http://localhost").encode()
    )
    assert opened.status == 101
    await raw.send(frame_head(16 << 20) + b"x" * (bridge.max_message_bytes + (80 << 10)))
    with trio.fail_after(5):  # the rest never comes: only the limit can end it
        data = raw.buffer + await raw.read_until_eof()
    # trio-websocket sends 1009 and closes; with our bytes unread the kernel may turn
    # that into a reset (a browser then sees 1006). Either way the connection is over.
    close = data.rfind(b"\x88")
    assert close < 0 or int.from_bytes(data[close + 2 : close + 4], "big") == 1009
    with trio.fail_after(5):
        while bridge.connected:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
