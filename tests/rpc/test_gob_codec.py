"""GeeRPC's ``application/gob`` codec (issue 21), geetrio on both ends over memory
streams: calls, errors, metadata, a struct reply, many calls in flight; an argument
that cannot be encoded leaves the stream usable; a hostile gob stream ends only its
own connection."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import trio
import trio.testing

from geetrio import rpc
from tests.rpc.test_calls import Args, Foo, Score, memory_client

GOB = rpc.Option(codec_type=rpc.GOB, handle_timeout=2.0)


async def test_calls_errors_and_struct_replies_over_gob(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = rpc.Server(interceptors=[rpc.token_interceptor(["s3"])])
    server.register(Foo())
    token = {"authorization": "Bearer s3"}
    async with memory_client(server, GOB) as client:
        assert await client.call("Foo.Sum", Args(1, 2), metadata=token, reply_type=int) == 3
        assert await client.call("Foo.Get", "ann", metadata=token, reply_type=Score) == Score(
            "ann", 300
        )
        with pytest.raises(rpc.RemoteError, match="refused"):
            await client.call("Foo.Sum", Args(1, 2))  # no token in the metadata
        with pytest.raises(rpc.RemoteError, match="boom"):
            await client.call("Foo.Boom", "boom", metadata=token)
        with pytest.raises(rpc.RPCError, match="cannot encode"):
            await client.call("Foo.Echo", {1, 2}, metadata=token)  # a set: no gob type
        results: dict[int, int] = {}

        async def one(i: int) -> None:
            results[i] = await client.call("Foo.Sum", Args(i, i), metadata=token, reply_type=int)

        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(one, i)
        assert results == {i: 2 * i for i in range(100)}


async def test_a_hostile_gob_stream_ends_only_its_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = rpc.Server()
    server.register(Foo())
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, server_stream)
        await client_stream.send_all(GOB.encode() + b"\x05\xff\x81\x03\x01\x07")
        with trio.fail_after(5):
            while await client_stream.receive_some():  # the server closes it
                pass
        async with memory_client(server, GOB) as client:  # and serves the next one
            assert await client.call("Foo.Sum", Args(2, 3), reply_type=int) == 5
        nursery.cancel_scope.cancel()


@dataclass
class Big:
    blob: bytes = b""


@dataclass
class Other:
    text: str = ""


class Store:
    async def Big(self, value: Big) -> int:
        return len(value.blob)

    async def Other(self, value: Other) -> int:
        return len(value.text)


async def test_messages_go_out_in_the_order_they_were_built_under_backpressure() -> None:
    """Over 1 MiB waits to go out while the server does not read yet (a socket pair):
    two calls wait for room, the first defining a new type the second uses. They must
    reach the wire in the order they were built, whichever wakes first, or the server
    meets a type it was never told of. (The client waits for room before it builds a
    gob message, so the order holds by construction; in my runs trio woke them in
    order even without that.)"""
    server = rpc.Server()
    server.register(Store())
    ours, theirs = trio.socket.socketpair()
    client_stream, server_stream = trio.SocketStream(ours), trio.SocketStream(theirs)
    sizes: list[int] = []
    all_done = trio.Event()

    async def call(method: str, value: object) -> None:
        sizes.append(await client.call(method, value, reply_type=int))
        if len(sizes) == 4:
            all_done.set()

    async with trio.open_nursery() as nursery, rpc.open_client(client_stream, option=GOB) as client:
        nursery.start_soon(call, "Store.Big", Big(b"x" * 900_000))
        nursery.start_soon(call, "Store.Big", Big(b"y" * 900_000))
        await trio.testing.wait_all_tasks_blocked()  # both queued; the socket is full
        nursery.start_soon(call, "Store.Other", Other("a new type, defined now"))
        await trio.testing.wait_all_tasks_blocked()  # it waits for room
        nursery.start_soon(call, "Store.Other", Other("the same type"))
        await trio.testing.wait_all_tasks_blocked()  # so does this one
        nursery.start_soon(server.serve_stream, server_stream)  # now the server reads
        with trio.fail_after(10):
            await all_done.wait()
        nursery.cancel_scope.cancel()
    assert sorted(sizes) == [13, 23, 900_000, 900_000]
