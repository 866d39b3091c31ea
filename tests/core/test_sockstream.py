"""``FastSocketStream``: trio's own conformance suite for half-closeable streams
(``trio.testing.check_half_closeable_stream``: checkpoints, cancellation, busy and
closed streams, send_eof, clogged sends) over real socket pairs — the contract of
``trio.SocketStream``, which it replaces on every plain server connection."""

from __future__ import annotations

from functools import partial

import trio
import trio.testing

from geetrio._core.sockstream import FastSocketStream
from geetrio._core.streams import close_now, peer_address


async def stream_maker() -> tuple[FastSocketStream, FastSocketStream]:
    left, right = trio.socket.socketpair()
    return FastSocketStream(left), FastSocketStream(right)


async def fill_stream(stream: FastSocketStream) -> None:
    """Send until the socket buffers are full (as trio's own test of SocketStream)."""

    async def sender() -> None:
        while True:
            await stream.send_all(b"x" * 10000)

    async def waiter(nursery: trio.Nursery) -> None:
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sender)
        nursery.start_soon(waiter, nursery)


async def clogged_stream_maker() -> tuple[FastSocketStream, FastSocketStream]:
    left, right = await stream_maker()
    await fill_stream(left)
    await fill_stream(right)
    return left, right


async def test_it_passes_trios_conformance_suite_for_half_closeable_streams() -> None:
    await trio.testing.check_half_closeable_stream(stream_maker, clogged_stream_maker)


async def test_a_tcp_connection_made_fast_keeps_its_peer_and_closes_at_once() -> None:
    async def answer(stream: trio.SocketStream) -> None:
        fast = FastSocketStream.of(stream)
        assert isinstance(fast, FastSocketStream)
        assert peer_address(fast).startswith("127.0.0.1:")
        await fast.send_all(await fast.receive_some())
        assert close_now(fast)

    async with trio.open_nursery() as nursery:
        serve = partial(trio.serve_tcp, answer, 0, host="127.0.0.1")
        [listener] = await nursery.start(serve)
        client = await trio.open_tcp_stream("127.0.0.1", listener.socket.getsockname()[1])
        async with client:
            await client.send_all(b"ping")
            assert await client.receive_some() == b"ping"
            assert await client.receive_some() == b""  # closed by close_now
        nursery.cancel_scope.cancel()
    memory = trio.testing.memory_stream_pair()[0]
    assert FastSocketStream.of(memory) is memory  # other streams stay as they are
