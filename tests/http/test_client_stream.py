"""``HTTPClient.stream``: a body read as it comes (etcd's watch is one endless body)."""

from __future__ import annotations

from functools import partial

import pytest
import trio

from geetrio.http import ClientError, HTTPClient


async def chunked_server(gate: trio.Event, stream: trio.SocketStream) -> None:
    async with stream:
        data = b""
        while b"\r\n\r\n" not in data:
            data += await stream.receive_some(65536)
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n"
        )
        await gate.wait()  # the client has the first piece before the second is sent
        await stream.send_all(b"7\r\nsecond\n\r\n0\r\n\r\n")


async def test_pieces_arrive_as_they_are_sent(nursery: trio.Nursery) -> None:
    gate = trio.Event()
    listeners = await nursery.start(
        partial(trio.serve_tcp, partial(chunked_server, gate), 0, host="127.0.0.1")
    )
    port = listeners[0].socket.getsockname()[1]
    async with (
        HTTPClient() as client,
        client.stream("POST", f"http://127.0.0.1:{port}/watch", body=b"{}") as response,
    ):
        assert response.status == 200 and response.headers["transfer-encoding"] == "chunked"
        pieces = []
        async for chunk in response:
            pieces.append(chunk)
            gate.set()
        assert pieces == [b"first\n", b"second\n"]


async def cut_server(stream: trio.SocketStream) -> None:
    async with stream:
        await stream.receive_some(65536)
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n"
        )


async def test_a_stream_cut_midway_is_a_client_error(nursery: trio.Nursery) -> None:
    listeners = await nursery.start(partial(trio.serve_tcp, cut_server, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    async with (
        HTTPClient() as client,
        client.stream("GET", f"http://127.0.0.1:{port}/") as response,
    ):
        assert await response.__anext__() == b"first\n"
        with pytest.raises(ClientError, match="closed before the response was complete"):
            await response.__anext__()


async def test_a_piece_over_the_cap_is_refused(nursery: trio.Nursery) -> None:
    async def big(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some(65536)
            await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)

    listeners = await nursery.start(partial(trio.serve_tcp, big, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    async with HTTPClient() as client:
        with pytest.raises(ClientError, match="over 1000 bytes"):  # at once or while reading
            async with client.stream("GET", url, max_chunk_bytes=1000) as response:
                async for _ in response:
                    pass
