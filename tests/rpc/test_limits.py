"""The RPC server's limits against one hostile client: a connection cap and one
connection budget per process, deadlines for the Option line, each frame and idle
connections, bytes in flight per connection, error texts and log lines that quote
the input bounded."""

from __future__ import annotations

import json
import logging

import pytest
import trio
import trio.testing

from geetrio import rpc
from geetrio._core.budget import use_budget
from geetrio.rpc.protocol import encode_frame, encode_message
from geetrio.web import Context, Engine
from tests.rpc.test_calls import Args, Foo

OPTION = (
    b'{"MagicNumber":3927900,"CodecType":"application/json","ConnectTimeout":0,"HandleTimeout":0}\n'
)


async def ok(c: Context) -> None:
    c.string(200, "ok")


def request(method: str, seq: int, body: bytes) -> bytes:
    header = json.dumps({"ServiceMethod": method, "Seq": seq, "Error": ""}).encode()
    return encode_message(header, body)


async def closed_by_server(stream: trio.abc.Stream) -> bool:
    """Read until the server closes; True once it has (data before it is dropped)."""
    while True:
        try:
            if not await stream.receive_some(65536):
                return True
        except trio.BrokenResourceError:
            return True


async def test_at_the_cap_busy_connections_keep_new_clients_in_the_backlog(
    nursery: trio.Nursery,
) -> None:
    foo = Foo()
    server = rpc.Server(max_connections=2)
    server.register(foo)
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    held = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(2)]
    for i, stream in enumerate(held):  # each with a call in flight: not idle
        await stream.send_all(OPTION + request("Foo.Wait", 1, f'"k{i}"'.encode()))
        await foo.entered.setdefault(f"k{i}", trio.Event()).wait()
    answered = trio.Event()

    async def third() -> None:
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            assert await client.call("Foo.Sum", Args(1, 2)) == 3
            answered.set()

    nursery.start_soon(third)
    with trio.move_on_after(0.5):  # bounded wait for something that must not happen
        await answered.wait()
    assert not answered.is_set()  # the third waits in the backlog
    await held[0].aclose()
    with trio.fail_after(5):
        await answered.wait()  # a slot came free
    await held[1].aclose()


async def test_at_the_cap_the_oldest_idle_connection_makes_room(nursery: trio.Nursery) -> None:
    """1,150 connections that only sent their Option line locked every new client out;
    now a new client takes the place of the oldest idle one."""
    server = rpc.Server(max_connections=3)
    server.register(Foo())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    held = []
    for _ in range(3):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(OPTION)
        held.append(stream)
    for _ in range(5):  # each new client is served at once
        with trio.fail_after(5):
            async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
                assert await client.call("Foo.Sum", Args(1, 2)) == 3
    with trio.fail_after(5):
        assert await closed_by_server(held[0])  # the oldest went first
    for stream in held:
        await stream.aclose()


async def test_a_flood_on_one_server_leaves_the_others_accepting(nursery: trio.Nursery) -> None:
    """Seven servers in a process share one budget: flooding the RPC server takes at
    most the budget less the others' floors; the web server still answers."""
    budget = use_budget(40)
    server = rpc.Server()
    server.register(Foo())
    rpc_port = await nursery.start(server.serve, "127.0.0.1", 0)
    app = Engine()
    app.get("/", ok)
    web_port = await nursery.start(app.serve, "127.0.0.1", 0)
    assert budget.floor == 10  # two servers: each keeps 40 // 4
    flood = []
    for _ in range(45):  # more than the whole budget; the backlog holds the rest
        stream = await trio.open_tcp_stream("127.0.0.1", rpc_port)
        await stream.send_all(OPTION)
        flood.append(stream)
    await trio.testing.wait_all_tasks_blocked()
    rpc_share = next(s for s in budget.shares if s.cap is None and s.used)
    # 40 less the web server's floor: 29 connections + the slot its next accept holds
    assert rpc_share.used == 40 - budget.floor
    with trio.fail_after(5):
        for _ in range(3):
            stream = await trio.open_tcp_stream("127.0.0.1", web_port)
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await stream.receive_some(4096)).startswith(b"HTTP/1.1 200 ")
            await stream.aclose()
    for stream in flood:
        await stream.aclose()


@pytest.fixture
def make_pair(nursery: trio.Nursery):  # type: ignore[no-untyped-def]
    def make(server: rpc.Server) -> trio.testing.MemoryStapledStream:  # type: ignore[name-defined]
        client, server_side = trio.testing.memory_stream_pair()
        nursery.start_soon(server.serve_stream, server_side)
        return client

    return make


async def test_a_trickled_frame_is_dropped(
    autojump_clock: trio.testing.MockClock, make_pair
) -> None:  # type: ignore[no-untyped-def]
    server = rpc.Server(frame_timeout=8.0, idle_timeout=1000.0)
    server.register(Foo())
    client = make_pair(server)
    await client.send_all(OPTION)
    message = request("Foo.Sum", 1, b'{"num1": 1, "num2": 2}')
    start = trio.current_time()
    closed = False
    for byte in message[:-1]:  # one byte a second: each pause short, the frame endless
        await client.send_all(bytes([byte]))
        with trio.move_on_after(1.0):
            closed = await closed_by_server(client)
        if closed:
            break
    assert closed and 8.0 <= trio.current_time() - start <= 10.0


async def test_idle_connections_close_busy_ones_stay(
    autojump_clock: trio.testing.MockClock, make_pair
) -> None:  # type: ignore[no-untyped-def]
    foo = Foo()
    server = rpc.Server(idle_timeout=5.0)
    server.register(foo)
    client = make_pair(server)
    await client.send_all(OPTION + request("Foo.Wait", 1, b'"k"'))
    await foo.entered.setdefault("k", trio.Event()).wait()
    with trio.move_on_after(12.0):  # over twice the idle timeout with a call in flight
        await closed_by_server(client)
        raise AssertionError("a connection with a call in flight was closed")
    foo.gates.setdefault("k", trio.Event()).set()  # the call ends: the connection is idle
    start = trio.current_time()
    with trio.fail_after(10):
        assert await closed_by_server(client)
    assert 5.0 <= trio.current_time() - start <= 5.5


async def test_no_option_line_in_time(autojump_clock: trio.testing.MockClock, make_pair) -> None:  # type: ignore[no-untyped-def]
    server = rpc.Server(option_timeout=5.0)
    client = make_pair(server)
    await client.send_all(b'{"MagicNumber":')
    start = trio.current_time()
    assert await closed_by_server(client)
    assert 5.0 <= trio.current_time() - start <= 5.5


class Big:
    def __init__(self) -> None:
        self.calls = 0

    async def Echo(self, value: str) -> str:
        self.calls += 1
        return value


async def test_bytes_in_flight_per_connection_are_bounded(nursery: trio.Nursery) -> None:
    """A client sends 1 MiB calls and never reads a reply: the server stops reading
    once a few MiB are held, instead of holding every request and every reply."""
    big = Big()
    server = rpc.Server(max_pending_bytes=4 << 20)
    server.register(big)
    client, server_side = trio.testing.lockstep_stream_pair()  # a reply waits for a reader
    nursery.start_soon(server.serve_stream, server_side)
    value = json.dumps("x" * (1 << 20)).encode()
    sent = 0

    async def send() -> None:
        nonlocal sent
        await client.send_all(OPTION)
        for seq in range(100):
            await client.send_all(request("Big.Echo", seq, value))
            sent += 1

    nursery.start_soon(send)
    await trio.testing.wait_all_tasks_blocked()
    # replies held: at most the writer's 1 MiB buffer + one reply + max_pending_bytes
    assert 2 <= big.calls <= 8 and sent < 100
    nursery.cancel_scope.cancel()


async def test_error_texts_and_logs_quoting_input_are_bounded(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="geetrio")
    server = rpc.Server()
    server.register(Foo())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    huge = "k" * (1 << 20)
    async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
        for method, arg in (
            (f"Foo.{huge}", 1),  # the unknown method's name is quoted
            ("Foo.Boom", huge),  # the method's own error repeats its argument
            ("Foo.Get", [huge]),  # the decoding error describes the value
        ):
            with pytest.raises(rpc.RemoteError) as caught:
                await client.call(method, arg)
            assert len(caught.value.message) < 1200
            assert "characters)" in caught.value.message or "..." in caught.value.message
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
    assert max(len(r.getMessage()) for r in caplog.records) < 1200
    stream = await trio.open_tcp_stream("127.0.0.1", port)  # the reply's header, raw
    async with stream:
        await stream.send_all(OPTION + request(f"Foo.{huge}", 7, b"1"))
        reply = b""
        with trio.fail_after(5):
            while len(reply) < 4 or len(reply) < 4 + int.from_bytes(reply[:4], "big"):
                reply += await stream.receive_some(65536)
        header = json.loads(reply[4 : 4 + int.from_bytes(reply[:4], "big")])
        assert header["Seq"] == 7 and len(header["ServiceMethod"]) < 1200


async def test_a_frame_header_alone_counts_as_inside_a_frame(
    autojump_clock: trio.testing.MockClock, make_pair
) -> None:  # type: ignore[no-untyped-def]
    """A header frame with its body never coming: the frame deadline, not the idle one."""
    server = rpc.Server(frame_timeout=10.0, idle_timeout=1000.0)
    client = make_pair(server)
    header = json.dumps({"ServiceMethod": "Foo.Sum", "Seq": 1, "Error": ""}).encode()
    await client.send_all(OPTION + encode_frame(header))
    start = trio.current_time()
    assert await closed_by_server(client)
    assert 10.0 <= trio.current_time() - start <= 10.5


def test_server_limits_are_validated() -> None:
    for bad in (
        {"max_connections": 0},
        {"frame_timeout": 0},
        {"idle_timeout": -1},
        {"option_timeout": 0},
        {"max_pending_bytes": 0},
    ):
        with pytest.raises(ValueError):
            rpc.Server(**bad)  # type: ignore[arg-type]
