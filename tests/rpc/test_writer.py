"""The client's frame writer (rpc/writer.py): a message written in part stays whole among
others; a drop wakes every caller waiting for room, saying whether its request went out."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from geetrio import rpc
from tests.rpc.test_calls import Args, Foo


async def test_big_messages_written_in_part_stay_whole() -> None:
    """The writer's fast path: what the socket does not take at once goes first in the
    queue, so a 4 MB request and reply stay whole among small calls."""
    big = "y" * (4 * 1024 * 1024)
    server = rpc.Server()
    server.register(Foo())
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            small: list[int] = []

            async def small_calls() -> None:
                for i in range(50):
                    small.append(await client.call("Foo.Sum", Args(i, 1)))

            async with trio.open_nursery() as calls:
                calls.start_soon(small_calls)
                assert await client.call("Foo.Echo", big) == big
            assert small == [i + 1 for i in range(50)]
        nursery.cancel_scope.cancel()


async def test_a_drop_wakes_callers_waiting_for_room_in_the_writer(nursery: trio.Nursery) -> None:
    """A server that stops reading: requests pile up in the writer's queue, later callers
    wait for room; when the connection drops, each fails at once, and says whether its
    request went out (``sent``)."""
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    option = rpc.Option().encode()

    async def read_only_the_option() -> None:
        got = b""
        while len(got) < len(option):
            got += await server_stream.receive_some(len(option) - len(got))

    nursery.start_soon(read_only_the_option)
    big = "z" * (2 * 1024 * 1024)
    errors: dict[int, rpc.ShutdownError] = {}
    async with rpc.open_client(client_stream) as client:

        async def call(i: int) -> None:
            with pytest.raises(rpc.ShutdownError) as info:
                await client.call("Foo.Echo", big)
            errors[i] = info.value

        async with trio.open_nursery() as calls:
            for i in range(3):
                calls.start_soon(call, i)
                await trio.testing.wait_all_tasks_blocked()
            await server_stream.aclose()  # the connection drops
    assert sorted(errors) == [0, 1, 2]
    assert [errors[i].sent for i in range(3)] == [True, False, False]  # only the first went out
