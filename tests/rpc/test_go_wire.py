"""The wire as the Go originals speak it: GeeRPC's CONNECT with bare LFs both ways, Go's
case-insensitive field names, bare ``dict`` / ``list`` arguments. The Go side is played
byte for byte from a raw socket (GeeRPC day 5 writes ``"CONNECT %s HTTP/1.0\\n\\n"`` and
answers ``"HTTP/1.0 " + connected + "\\n\\n"``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import trio

from geetrio import rpc
from geetrio.rpc._dial import split_connect_answer
from geetrio.rpc.protocol import FrameDecoder, encode_message
from geetrio.web import Context, Engine
from tests.rpc.test_calls import Args, Foo

GO_OPTION = (
    b'{"MagicNumber":3927900,"CodecType":"application/json","ConnectTimeout":0,"HandleTimeout":0}\n'
)


@dataclass
class Pair:
    num1: int
    num2: int


class Maps:
    async def Add(self, args: dict) -> int:  # type: ignore[type-arg]
        return sum(args.values())

    async def Count(self, items: list) -> int:  # type: ignore[type-arg]
        return len(items)

    async def Swap(self, pair: Pair) -> Pair:
        return Pair(pair.num2, pair.num1)


async def ok(c: Context) -> None:
    c.string(200, "ok")


def go_request(method: str, seq: int, body: Any) -> bytes:
    header = json.dumps({"ServiceMethod": method, "Seq": seq, "Error": ""}).encode()
    return encode_message(header, json.dumps(body).encode())


async def call_raw(stream: trio.abc.Stream, method: str, body: Any) -> tuple[dict, Any]:  # type: ignore[type-arg]
    await stream.send_all(go_request(method, 1, body))
    decoder = FrameDecoder()
    frames: list[bytes] = []
    with trio.fail_after(5):
        while len(frames) < 2:
            data = await stream.receive_some(65536)
            assert data, "the server closed the connection"
            frames += decoder.feed(data)
    return json.loads(frames[0]), json.loads(frames[1])


async def test_a_go_client_connects_with_bare_line_feeds(nursery: trio.Nursery) -> None:
    server = rpc.Server()
    server.register(Foo())
    app = Engine()
    server.mount(app)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(b"CONNECT /_geeprc_ HTTP/1.0\n\n")
        answer = b""
        with trio.fail_after(5):
            while split_connect_answer(answer) is None:
                answer += await stream.receive_some(1024)
        assert answer == b"HTTP/1.0 200 Connected to Gee RPC\r\n\r\n"
        await stream.send_all(GO_OPTION)
        header, body = await call_raw(stream, "Foo.Sum", {"Num1": 1, "Num2": 2})
        assert header["Error"] == ""
        assert body == 3


async def test_bare_line_feeds_stay_refused_everywhere_else(nursery: trio.Nursery) -> None:
    app = Engine()
    app.get("/", ok)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    for head in (
        b"GET / HTTP/1.0\n\n",
        b"CONNECT /_geeprc_ HTTP/1.0\nHost: x\n\n",  # a field: no exception for it
        b"CONNECT /_geeprc_ HTTP/1.0\r\n\n",
    ):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(head)
            with trio.fail_after(5):
                answer = await stream.receive_some(1024)
            assert answer.startswith(b"HTTP/1.1 400 "), (head, answer)


async def serve_go_connect(stream: trio.SocketStream, server: rpc.Server) -> None:
    """A Go GeeRPC server's CONNECT handler: reads the head, answers with bare LFs."""
    head = b""
    while b"\n\n" not in head and b"\r\n\r\n" not in head:
        head += await stream.receive_some(1024)
    assert head.startswith(b"CONNECT /_geeprc_ HTTP/1.0")
    await stream.send_all(b"HTTP/1.0 200 Connected to Gee RPC\n\n")
    await server.serve_stream(stream)


async def test_our_client_reads_a_go_servers_bare_line_feeds(nursery: trio.Nursery) -> None:
    server = rpc.Server()
    server.register(Foo())
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    nursery.start_soon(trio.serve_listeners, lambda s: serve_go_connect(s, server), listeners)
    option = rpc.Option(connect_timeout=0)  # no deadline: a hang would hang the test
    with trio.fail_after(5):
        async with rpc.dial_http("tcp", f"127.0.0.1:{port}", option=option) as client:
            assert await client.call("Foo.Sum", Args(1, 2)) == 3


def test_split_connect_answer() -> None:
    assert split_connect_answer(b"HTTP/1.0 200 Connected to Gee RPC\n") is None
    assert split_connect_answer(b"HTTP/1.0 200 X\r\nA: b\n\r\nrest") == (b"HTTP/1.0 200 X", b"rest")
    assert split_connect_answer(b"\n\n") == (b"", b"")  # an empty status line: refused later


async def test_go_field_names_meet_python_fields(nursery: trio.Nursery) -> None:
    server = rpc.Server()
    server.register(Maps())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(GO_OPTION)
        header, body = await call_raw(stream, "Maps.Swap", {"Num1": 1, "NUM2": 2})
        assert header["Error"] == ""
        assert body == {"num1": 2, "num2": 1}  # Go reads these back case-insensitively too
        header, body = await call_raw(stream, "Maps.Swap", {"num1": 5, "Num1": 6, "num2": 0})
        assert body == {"num1": 0, "num2": 5}  # an exact name beats a folded one
        header, body = await call_raw(stream, "Maps.Swap", {"Num1": 1})
        assert "num2: missing" in header["Error"]


async def test_replies_decode_case_insensitively_too(nursery: trio.Nursery) -> None:
    class GoStyle:
        async def Get(self, name: str) -> dict[str, Any]:
            return {"Num1": len(name), "Num2": 7}  # what a Go server's struct encodes to

    server = rpc.Server()
    server.register(GoStyle())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
        assert await client.call("GoStyle.Get", "abc", reply_type=Pair) == Pair(3, 7)


async def test_bare_dict_and_list_arguments(nursery: trio.Nursery) -> None:
    server = rpc.Server()
    server.register(Maps())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
        assert await client.call("Maps.Add", {"a": 1, "b": 2}) == 3
        assert await client.call("Maps.Count", [1, "x", None]) == 3
        with_error = client.call("Maps.Add", [1, 2])
        try:
            await with_error
        except rpc.RemoteError as exc:
            assert "expected an object" in exc.message
        else:
            raise AssertionError("a list is not a dict")
