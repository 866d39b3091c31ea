"""The project's HTTP client: sans-IO response parsing, pooling, faults."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing

from geetrio.http import (
    ClientError,
    HTTPClient,
    Request,
    Response,
    ResponseParser,
    serve,
)


def parse(*chunks: bytes, head: bool = False, eof: bool = False, max_body: int = 1 << 20):  # type: ignore[no-untyped-def]
    parser = ResponseParser(head=head, max_body=max_body)
    for chunk in chunks:
        parser.feed(chunk)
    if eof:
        parser.eof()
    return parser.response


def test_parser_content_length_chunked_and_interim_split_anywhere() -> None:
    samples = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
    ]
    for data, body in samples:
        for cut in range(1, len(data)):
            response = parse(data[:cut], data[cut:])
            assert response is not None and response.body == body and response.keep_alive


def test_parser_close_delimited_head_and_no_content() -> None:
    response = parse(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", eof=True)
    assert response is not None and response.body == b"until the end" and not response.keep_alive
    head = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", head=True)
    assert head is not None and head.body == b"" and head.headers["content-length"] == "1000"
    empty = parse(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert empty is not None and empty.status == 204


@pytest.mark.parametrize(
    ("chunks", "eof", "message"),
    [
        ([b"garbage\r\n\r\n"], False, "malformed"),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], True, "before the response"),
        ([b"HTTP/1.1 200 OK\r\nContent-Le"], True, "before the response"),
        (
            [b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000],
            False,
            "over 100 bytes",
        ),
    ],
)
def test_parser_hostile_responses(chunks: list[bytes], eof: bool, message: str) -> None:
    with pytest.raises(ClientError, match=message):
        parse(*chunks, eof=eof, max_body=100)


# ------------------------------------------------------------------ against servers


async def hello(request: Request) -> Response:
    body = f"{request.method} {request.target} {request.body.decode()} from {request.remote_addr}"
    return Response(200, [("content-type", "text/plain")], body.encode())


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    return await nursery.start(serve, hello, "127.0.0.1", 0)


async def test_get_post_and_connection_reuse(port: int) -> None:
    async with HTTPClient() as client:
        first = await client.get(f"http://127.0.0.1:{port}/a?x=1")
        second = await client.post(f"http://127.0.0.1:{port}/b", b"payload")
        third = await client.request("DELETE", f"http://127.0.0.1:{port}/c")
    assert first.body.startswith(b"GET /a?x=1  from ")
    assert second.body.startswith(b"POST /b payload from ")
    # One keep-alive connection served all three: same client address each time.
    addresses = {r.body.split(b" from ")[1] for r in (first, second, third)}
    assert len(addresses) == 1


async def test_head_then_get_on_one_pooled_connection(port: int) -> None:
    async with HTTPClient() as client:
        head = await client.request("HEAD", f"http://127.0.0.1:{port}/h")
        body = await client.get(f"http://127.0.0.1:{port}/g")
        again = await client.get(f"http://127.0.0.1:{port}/g2")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) > 0
    assert body.body.startswith(b"GET /g ") and again.body.startswith(b"GET /g2 ")
    assert body.body.split(b" from ")[1] == again.body.split(b" from ")[1]


async def test_concurrent_requests_use_several_connections(port: int) -> None:
    results: list[int] = []
    async with HTTPClient() as client:

        async def one(i: int) -> None:
            results.append((await client.get(f"http://127.0.0.1:{port}/{i}")).status)

        async with trio.open_nursery() as nursery:
            for i in range(30):
                nursery.start_soon(one, i)
    assert results == [200] * 30


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_unreachable_server_is_a_client_error() -> None:
    async with HTTPClient() as client:
        with pytest.raises(ClientError, match="cannot connect"):
            await client.get(f"http://127.0.0.1:{closed_port()}/")


Script = Callable[[trio.SocketStream], Awaitable[None]]


async def scripted_server(nursery: trio.Nursery, script: Script) -> int:
    listeners = await nursery.start(trio.serve_tcp, script, 0)
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def read_head(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some()
        if not chunk:
            break
        data += chunk
    return data


async def test_a_pooled_connection_the_server_closed_is_replaced(nursery: trio.Nursery) -> None:
    closed = trio.Event()
    connections = 0

    async def answer_once_then_close(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        await read_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await stream.aclose()  # keep-alive promised, then closed (idle timeout)
        closed.set()

    port = await scripted_server(nursery, answer_once_then_close)
    async with HTTPClient() as client:
        assert (await client.post(f"http://127.0.0.1:{port}/", b"1")).body == b"ok"
        await closed.wait()
        await trio.testing.wait_all_tasks_blocked()  # the FIN has reached our socket
        assert (await client.post(f"http://127.0.0.1:{port}/", b"2")).body == b"ok"
    assert connections == 2


async def test_server_closing_mid_response_is_a_client_error(nursery: trio.Nursery) -> None:
    async def half_answer(stream: trio.SocketStream) -> None:
        await read_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
        await stream.aclose()

    port = await scripted_server(nursery, half_answer)
    async with HTTPClient() as client:
        with pytest.raises(ClientError, match="closed before the response was complete"):
            await client.post(f"http://127.0.0.1:{port}/", b"x")


async def test_garbage_from_the_server_is_a_client_error(nursery: trio.Nursery) -> None:
    async def garbage(stream: trio.SocketStream) -> None:
        await read_head(stream)
        await stream.send_all(b"\x00\x01 definitely not HTTP\r\n\r\n")
        await stream.aclose()

    port = await scripted_server(nursery, garbage)
    async with HTTPClient() as client:
        with pytest.raises(ClientError, match="malformed"):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_cancelled_request_does_not_poison_the_pool(nursery: trio.Nursery) -> None:
    requests = 0
    release = trio.Event()

    async def slow_first(stream: trio.SocketStream) -> None:
        nonlocal requests
        while await read_head(stream):
            requests += 1
            if requests == 1:
                await release.wait()  # never answer the first request in time
            await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate")

    port = await scripted_server(nursery, slow_first)
    async with HTTPClient() as client:
        with trio.move_on_after(0.2) as scope:
            await client.get(f"http://127.0.0.1:{port}/")
        assert scope.cancelled_caught
        release.set()
        # The cancelled request's connection was closed, not pooled: a fresh one answers
        # its own request instead of handing us the stale "late" answer meant for the first.
        response = await client.get(f"http://127.0.0.1:{port}/")
        assert response.body == b"late" and requests == 2


@pytest.mark.parametrize("url", ["ftp://x/", "http:///nohost", "127.0.0.1:80/", "https://[::1/"])
async def test_bad_urls(url: str) -> None:
    async with HTTPClient() as client:
        with pytest.raises(ValueError):
            await client.get(url)


async def test_header_injection_and_closed_client(port: int) -> None:
    client = HTTPClient()
    with pytest.raises(ValueError):
        await client.get(f"http://127.0.0.1:{port}/", headers=[("X", "a\r\nEvil: 1")])
    await client.aclose()
    with pytest.raises(ClientError, match="closed"):
        await client.get(f"http://127.0.0.1:{port}/")


async def test_no_pooling_closes_each_connection(nursery: trio.Nursery) -> None:
    from geetrio.http import Response, serve

    peers: list[str] = []

    async def handler(request: Request) -> Response:
        peers.append(request.remote_addr)
        return Response(200, [], b"ok")

    port = await nursery.start(serve, handler, "127.0.0.1", 0)
    async with HTTPClient(max_idle_per_host=0) as client:
        for _ in range(3):
            assert (await client.get(f"http://127.0.0.1:{port}/")).body == b"ok"
        assert client._idle == {}
    assert len(set(peers)) == 3  # a new connection each time
