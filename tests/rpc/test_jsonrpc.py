"""``net/rpc/jsonrpc`` (issue 21), geetrio on both ends over memory streams: calls,
errors, many in flight, ids of any JSON kind echoed back; hostile lines — not JSON,
not a request, over the frame limit — end only their own connection."""

from __future__ import annotations

import contextlib
import json

import pytest
import trio
import trio.testing

from geetrio import rpc
from tests.rpc.test_calls import Args, Foo, memory_client

JSONRPC = rpc.Option(codec_type=rpc.JSONRPC)


async def test_calls_and_errors_over_jsonrpc(autojump_clock: trio.testing.MockClock) -> None:
    server = rpc.Server()
    server.register(Foo())
    async with memory_client(server, JSONRPC) as client:
        assert await client.call("Foo.Sum", Args(1, 2), reply_type=int) == 3
        with pytest.raises(rpc.RemoteError, match="boom"):
            await client.call("Foo.Boom", "boom")
        results: dict[int, int] = {}

        async def one(i: int) -> None:
            results[i] = await client.call("Foo.Sum", Args(i, 1), reply_type=int)

        async with trio.open_nursery() as nursery:
            for i in range(50):
                nursery.start_soon(one, i)
        assert results == {i: i + 1 for i in range(50)}


async def exchange(server: rpc.Server, data: bytes) -> bytes:
    """The server's answers to the requests of ``data``, one line each."""
    client, theirs = trio.testing.memory_stream_pair()
    answer = b""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, theirs)
        await client.send_all(data)
        with trio.fail_after(5):
            while answer.count(b"\n") < data.count(b"\n"):
                answer += await client.receive_some()
        nursery.cancel_scope.cancel()
    return answer


async def test_ids_of_any_kind_come_back_as_they_came(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = rpc.Server()
    server.register(Foo())
    lines = [
        {"method": "Foo.Sum", "params": [{"Num1": 2, "Num2": 3}], "id": "a-string"},
        {"method": "Foo.Sum", "params": [{"num1": 1, "num2": 1}], "id": [1, {"x": None}]},
        {"method": "Foo.Nope", "params": [1], "id": "last"},
    ]
    sent = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    answers = [json.loads(line) for line in (await exchange(server, sent)).splitlines()]
    assert sorted(answers, key=str) == sorted(
        [
            {"id": "a-string", "result": 5, "error": None},
            {"id": [1, {"x": None}], "result": 2, "error": None},
            {"id": "last", "result": None, "error": "rpc server: can't find method Nope"},
        ],
        key=str,
    )  # answered as each call ends: in any order


@pytest.mark.parametrize(
    "line",
    [
        b'{"method": "Foo.Sum", "params": [1, 2], "id": 1}\n',  # two params
        b'{"method": 7, "params": [], "id": 1}\n',
        b'{"method" "not json\n',
        b'{"method": "Foo.Sum", "params": "x' + b"y" * 20_000_000,  # a line over the limit
    ],
    ids=["two-params", "method-not-a-string", "not-json", "endless-line"],
)
async def test_hostile_lines_end_only_their_connection(
    autojump_clock: trio.testing.MockClock, line: bytes
) -> None:
    server = rpc.Server()
    server.register(Foo())
    client, theirs = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, theirs)
        with trio.fail_after(10):
            with contextlib.suppress(trio.BrokenResourceError):  # it may hang up first
                await client.send_all(line)
            assert await client.receive_some() == b""  # closed without an answer
        async with memory_client(server, JSONRPC) as other:  # others are served
            assert await other.call("Foo.Sum", Args(4, 4), reply_type=int) == 8
        nursery.cancel_scope.cancel()
