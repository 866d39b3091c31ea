"""TLSStream: our TLS layer over a trio stream (real handshakes with the test CA)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import trio.testing

from geetrio._core.streams import transport_of
from geetrio._core.tls import accept_tls, client_context, connect_tls, server_context
from geetrio._core.tlsstream import TLSStream

Pair = tuple[TLSStream, TLSStream]


async def handshake(
    client_side: trio.abc.Stream, server_side: trio.abc.Stream, pki: dict[str, Path]
) -> Pair:
    """A client and a server TLSStream over the two ends, handshake done."""
    server_ctx = server_context(pki["server"], alpn=())
    client_ctx = client_context(pki["ca"], alpn=())
    accepted: list[TLSStream | None] = []

    async def accept() -> None:
        accepted.append(await accept_tls(server_side, server_ctx, 5))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept)
        client = await connect_tls(client_side, client_ctx, "127.0.0.1")
    server = accepted[0]
    assert server is not None
    return client, server


@asynccontextmanager
async def memory_pair(pki: dict[str, Path]) -> AsyncIterator[Pair]:
    left, right = trio.testing.memory_stream_pair()
    client, server = await handshake(left, right, pki)
    async with client, server:
        yield client, server


@asynccontextmanager
async def socket_pair(pki: dict[str, Path]) -> AsyncIterator[Pair]:
    a, b = trio.socket.socketpair()
    client, server = await handshake(trio.SocketStream(a), trio.SocketStream(b), pki)
    async with client, server:
        yield client, server


async def receive_exactly(stream: trio.abc.ReceiveStream, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = await stream.receive_some()
        assert chunk, "the stream ended early"
        data += chunk
    return bytes(data)


async def test_both_ways_and_what_the_handshake_settled(pki: dict[str, Path]) -> None:
    async with memory_pair(pki) as (client, server):
        await client.send_all(b"ping")
        assert await server.receive_some() == b"ping"
        await server.send_all(b"pong")
        assert await client.receive_some() == b"pong"
        assert client.version() in ("TLSv1.2", "TLSv1.3")
        subject = dict(item[0] for item in client.getpeercert()["subject"])
        assert subject  # the server's certificate, verified
        assert server.getpeercert() is None  # no client certificate asked for
        assert transport_of(client) is client.transport_stream


async def test_small_messages_come_in_one_receive(pki: dict[str, Path]) -> None:
    # 100 records, each a message of its own: one receive_some gives them all.
    async with socket_pair(pki) as (client, server):
        for i in range(100):
            await client.send_all(b"%03d;" % i)
        await trio.testing.wait_all_tasks_blocked()
        data = await server.receive_some()
        assert data == b"".join(b"%03d;" % i for i in range(100))


async def test_max_bytes_is_honoured_and_the_rest_kept(pki: dict[str, Path]) -> None:
    async with memory_pair(pki) as (client, server):
        await client.send_all(b"abcdefghij")
        assert await server.receive_some(4) == b"abcd"
        with trio.testing.assert_checkpoints():  # served from what is decrypted already
            assert await server.receive_some(100) == b"efghij"
        with pytest.raises(ValueError):
            await server.receive_some(0)


async def test_a_large_message_crosses_whole(pki: dict[str, Path]) -> None:
    message = bytes(range(256)) * 8192  # 2 MiB: several write chunks, many records
    async with socket_pair(pki) as (client, server), trio.open_nursery() as nursery:
        nursery.start_soon(client.send_all, message)
        assert await receive_exactly(server, len(message)) == message


async def test_send_nowait_leaves_what_the_socket_refuses_for_the_next_send_all(
    pki: dict[str, Path],
) -> None:
    message = b"x" * (4 << 20)  # more than the socket pair's buffers take
    async with socket_pair(pki) as (client, server):
        assert client.send_nowait(message)
        assert client.backlogged
        assert not client.send_nowait(b"later")  # something is in the way: not taken
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.send_all, b"")  # sends the rest
            assert await receive_exactly(server, len(message)) == message
        assert not client.backlogged
        assert client.send_nowait(b"and now")
        assert await server.receive_some() == b"and now"


async def test_send_nowait_needs_a_socket(pki: dict[str, Path]) -> None:
    async with memory_pair(pki) as (client, _server):
        assert not client.send_nowait(b"data")


async def test_close_notify_ends_the_stream_quietly_both_ways(pki: dict[str, Path]) -> None:
    async with memory_pair(pki) as (client, server):
        await client.aclose()
        assert await server.receive_some() == b""
        assert await server.receive_some() == b""  # and stays ended
    async with memory_pair(pki) as (client, server):
        await server.aclose()
        assert await client.receive_some() == b""


async def test_a_ragged_end_is_quiet_for_a_server_and_an_error_for_a_client(
    pki: dict[str, Path],
) -> None:
    async with socket_pair(pki) as (client, server):
        await server.send_all(b"hi")  # read by the client with the session tickets before
        assert await client.receive_some() == b"hi"  # it closes (else a reset, not an end)
        await client.transport_stream.aclose()  # no close_notify
        assert await server.receive_some() == b""
    async with socket_pair(pki) as (client, server):
        await server.transport_stream.aclose()
        with pytest.raises(trio.BrokenResourceError, match="without TLS close_notify"):
            await client.receive_some()
        with pytest.raises(trio.BrokenResourceError):  # and stays broken
            await client.send_all(b"more")


async def test_an_untrusted_server_fails_the_handshake_with_the_reason(
    pki: dict[str, Path],
) -> None:
    left, right = trio.testing.memory_stream_pair()
    server_ctx = server_context(pki["stranger"], alpn=())  # signed by another CA
    client_ctx = client_context(pki["ca"], alpn=())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept_tls, right, server_ctx, 5)
        with pytest.raises(trio.BrokenResourceError) as failed:
            await connect_tls(left, client_ctx, "127.0.0.1")
    assert isinstance(failed.value.__cause__, ssl.SSLCertVerificationError)


async def test_a_client_that_stops_mid_handshake_times_out(
    pki: dict[str, Path], autojump_clock: trio.testing.MockClock
) -> None:
    left, right = trio.testing.memory_stream_pair()
    assert await accept_tls(right, server_context(pki["server"]), 3) is None
    await left.aclose()


async def test_garbage_instead_of_a_handshake_breaks_only_that_stream(
    pki: dict[str, Path],
) -> None:
    left, right = trio.testing.memory_stream_pair()
    await left.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to a TLS port
    assert await accept_tls(right, server_context(pki["server"]), 5) is None


async def test_a_send_cancelled_mid_record_breaks_the_stream(
    pki: dict[str, Path], autojump_clock: trio.testing.MockClock
) -> None:
    async with socket_pair(pki) as (client, _server):
        with trio.move_on_after(1):
            await client.send_all(b"x" * (4 << 20))  # more than the sockets hold: waits
        with pytest.raises(trio.BrokenResourceError, match="interrupted"):
            await client.send_all(b"after")


async def test_one_reader_and_one_writer_at_a_time(pki: dict[str, Path]) -> None:
    async with memory_pair(pki) as (client, server):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.receive_some)
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(trio.BusyResourceError):
                await server.receive_some()
            await client.send_all(b"unblock")
        await client.aclose()
        with pytest.raises(trio.ClosedResourceError):
            await client.send_all(b"closed")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_tls_1_2_and_1_3_both_finish_and_carry_data(
    pki: dict[str, Path], version: ssl.TLSVersion
) -> None:
    # A TLS 1.3 server keeps its session tickets for its first answer; a TLS 1.2 server
    # must send its Finished at once, or the client would wait for it forever.
    a, b = trio.socket.socketpair()
    client_ctx = client_context(pki["ca"], alpn=())
    client_ctx.maximum_version = version
    accepted: list[TLSStream | None] = []

    async def accept() -> None:
        accepted.append(await accept_tls(trio.SocketStream(b), server_context(pki["server"]), 5))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept)
        client = await connect_tls(trio.SocketStream(a), client_ctx, "127.0.0.1")
    server = accepted[0]
    assert server is not None
    async with client, server:
        assert client.version() == server.version() == version.name.replace("_", ".")
        await client.send_all(b"request")
        assert await server.receive_some() == b"request"
        await server.send_all(b"answer")
        assert await client.receive_some() == b"answer"
