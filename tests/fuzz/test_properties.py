"""Bounded fuzzing in ``make test``: hypothesis drives each boundary that reads
untrusted bytes (``targets.py``) with arbitrary and with protocol-shaped input, and
the live HTTP and RPC servers end to end. Nothing may raise but the boundary's own
refusal; a server must answer or close, and go on serving others. Longer,
coverage-guided runs of the same targets: ``make fuzz`` (atheris)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geetrio import gob, rpc
from geetrio.cache.protocol import encode_response
from geetrio.http import ServerConfig, serve_listeners
from geetrio.rpc.protocol import encode_frame
from geetrio.web import Context, Engine
from tests.fuzz.targets import TARGETS
from tests.helpers import MemoryListener

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HTTP_PIECES = [
    b"GET ", b"POST ", b"HEAD ", b"CONNECT a:1 ", b"BREW ", b"/", b"/a/b", b"?x=1&y", b"%00",
    b"%zz", b"%e2%82%ac", b"#frag", b"*", b"http://h/p", b" HTTP/1.1\r\n", b" HTTP/1.0\r\n",
    b" HTTP/2\r\n", b"\r\n", b"\n", b"Host: x\r\n", b"Host: \r\n", b"Content-Length: 5\r\n",
    b"Content-Length: -1\r\n", b"Content-Length: 99999999999999999999\r\n",
    b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: gzip\r\n", b"Expect: 100-continue\r\n",
    b"Connection: close\r\n", b"Upgrade: websocket\r\nConnection: Upgrade\r\n", b" folded\r\n",
    b"X: \x00\r\n", b"0\r\n\r\n", b"5\r\nhello\r\n", b"ffffffffffffffff\r\n", b"hello",
]  # fmt: skip
http_shaped = st.lists(st.sampled_from(HTTP_PIECES) | st.binary(max_size=6), max_size=40).map(
    b"".join
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
json_shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
).map(lambda value: json.dumps(value).encode())
rpc_shaped = st.lists(
    st.sampled_from([rpc.Option().encode()])
    | json_shaped.map(encode_frame)
    | st.binary(max_size=8),
    max_size=8,
).map(b"".join)
bridge_shaped = st.fixed_dictionaries(
    {"op": st.sampled_from(["call", "reply", "error", "event", "x"])},
    optional={
        "id": st.integers() | st.text(max_size=3) | st.none(),
        "name": st.text(max_size=5) | st.integers(),
        "args": st.lists(st.integers(), max_size=3) | st.text(max_size=3),
        "value": st.integers(),
        "handler": st.integers(),
        "event": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2) | st.integers(),
        "message": st.text(max_size=5) | st.none(),
    },
).map(lambda value: json.dumps(value).encode())
INT64 = st.integers(-(1 << 63), (1 << 63) - 1)
gob_values = st.one_of(
    st.tuples(st.just(int), INT64),
    st.tuples(st.just(str), st.text(max_size=5)),
    st.tuples(st.just(list[int]), st.lists(INT64, max_size=4)),
    st.tuples(
        st.just(dict[str, list[int]]),
        st.dictionaries(st.text(max_size=3), st.lists(INT64, max_size=3), max_size=3),
    ),
    st.tuples(st.just(Any), st.none() | INT64 | st.text(max_size=5) | st.binary(max_size=5)),
)


def gob_stream_of(values: list[tuple[Any, Any]]) -> bytes:
    encoder = gob.Encoder()  # one stream: each type defined once, as a peer sends it
    return b"".join(encoder.encode(value, annotation) for annotation, value in values)


gob_shaped = st.builds(
    lambda stream, at, noise: stream[:at] + noise + stream[at:],
    st.lists(gob_values, max_size=6).map(gob_stream_of),
    st.integers(0, 200),
    st.binary(max_size=4),
)
SHAPED = {
    "http_request": http_shaped,
    "http_response": st.lists(
        st.sampled_from([b"HTTP/1.1 200 OK\r\n", b"Content-Length: 3\r\n", b"\r\n", b"abc",
                         b"Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n", b"HTTP/1.0 500 x\r\n"])
        | st.binary(max_size=6),
        max_size=20,
    ).map(b"".join),
    "rpc_stream": rpc_shaped,
    "cache_peer": st.binary(max_size=64).map(encode_response) | st.binary(max_size=64),
    "bridge_message": bridge_shaped,
    "gob_stream": gob_shaped,
    "jsonrpc_stream": st.lists(
        st.fixed_dictionaries(
            {"method": st.text(max_size=8) | st.integers(), "params": st.lists(json_values, max_size=2)},
            optional={"id": json_values, "result": json_values, "error": json_values},
        ).map(lambda value: json.dumps(value).encode() + b"\n")
        | st.binary(max_size=6),
        max_size=6,
    ).map(b"".join),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    TARGETS[name](data)


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=st.data())
def test_protocol_shaped_input(name: str, data: st.DataObject) -> None:
    cut = data.draw(st.binary(min_size=1, max_size=1), label="chunking")
    TARGETS[name](cut + data.draw(SHAPED[name], label="input"))


# ---------------------------------------------------------------------- end to end


def _app() -> Engine:
    app = Engine()

    @app.get("/")
    async def index(c: Context) -> None:
        c.string(200, "ok")

    @app.post("/echo")
    async def echo(c: Context) -> None:
        c.data(200, c.body)

    return app


async def _exchange(connection: trio.abc.Stream, data: bytes) -> bytes:
    await connection.send_all(data)
    await connection.send_eof()  # type: ignore[attr-defined]
    received = b""
    with trio.fail_after(120):  # virtual seconds: the server's own timeouts fire first
        while chunk := await connection.receive_some(65536):
            received += chunk
    return received


@settings(max_examples=150, deadline=None)
@given(data=http_shaped | st.binary(max_size=2048))
def test_the_http_server_answers_or_closes_and_serves_the_next_one(data: bytes) -> None:
    async def main() -> None:
        listener = MemoryListener()
        config = ServerConfig(max_header_bytes=1024, max_body_bytes=4096)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(serve_listeners, _app().handle, [listener], config=config))
            hostile = await listener.connect()
            received = await _exchange(hostile.stream, data)
            assert received == b"" or received.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), received[
                :80
            ]
            good = await listener.connect()
            answer = await good.request(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert (answer.status, answer.body) == (200, b"ok")
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


class Sums:
    async def Sum(self, pair: list[int]) -> int:
        return sum(pair)


@settings(max_examples=150, deadline=None)
@given(data=rpc_shaped | st.binary(max_size=1024))
def test_the_rpc_server_answers_or_closes_and_serves_the_next_one(data: bytes) -> None:
    server = rpc.Server(max_frame_bytes=4096)
    server.register(Sums())

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            hostile, served = trio.testing.memory_stream_pair()
            done = trio.Event()

            async def serve() -> None:
                await server.serve_stream(served)
                done.set()

            nursery.start_soon(serve)
            await _exchange(hostile, data)
            await done.wait()  # the connection's task ended: nothing outlives it
            client_stream, server_stream = trio.testing.memory_stream_pair()
            nursery.start_soon(server.serve_stream, server_stream)
            async with rpc.open_client(client_stream) as client:
                assert await client.call("Sums.Sum", [1, 2]) == 3
            nursery.cancel_scope.cancel()

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
