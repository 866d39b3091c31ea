"""Request bodies a handler reads as they arrive: unbuffered, beyond max_body_bytes,
under the body deadlines, and cut off or malformed without harm to anyone else."""

from __future__ import annotations

import logging
from functools import partial

import pytest
import trio
import trio.testing

from geetrio.http import Request, Response, ServerConfig, serve, serve_listeners
from geetrio.http._connection import BODY_RECEIVE_SIZE
from geetrio.web import Context, Engine, default
from tests.helpers import MemoryListener, RawClient, answer_while_trickling, get

TEXT = [("content-type", "text/plain")]
MB = 1024 * 1024


class Uploads:
    """``/upload`` streams its body; everything else gets it whole."""

    def __init__(self) -> None:
        self.chunks: list[int] = []
        self.read_only_first = False
        self.errors: list[Exception] = []

    def streams(self, request: Request) -> bool:
        return request.path == "/upload"

    async def handler(self, request: Request) -> Response:
        if request.body_stream is None:
            return Response(200, TEXT, b"whole %d" % len(request.body))
        total = 0
        async for chunk in request.body_stream:
            self.chunks.append(len(chunk))
            total += len(chunk)
            if self.read_only_first:
                break
        return Response(200, TEXT, b"streamed %d" % total)


@pytest.fixture
async def uploads(nursery: trio.Nursery) -> tuple[Uploads, int]:
    u = Uploads()
    port = await nursery.start(partial(serve, u.handler, "127.0.0.1", 0, stream_body=u.streams))
    return u, port


async def memory_uploads(nursery: trio.Nursery, config: ServerConfig) -> RawClient:
    """A client of an ``Uploads`` server on memory streams (for the autojump clock)."""
    u = Uploads()
    listener = MemoryListener()
    await nursery.start(
        partial(serve_listeners, u.handler, [listener], config=config, stream_body=u.streams)
    )
    return await listener.connect()


def post(path: str, length: int, *, extra: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n{extra}\r\n".encode()


async def test_a_streamed_body_may_exceed_max_body_bytes(uploads: tuple[Uploads, int]) -> None:
    u, port = uploads
    client = await RawClient.connect(port)
    size = 20 * MB  # the default limit is 8 MiB
    await client.send(post("/upload", size))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.send, b"x" * size)
        response = await client.read_response()
    assert (response.status, response.body) == (200, b"streamed %d" % size)
    assert len(u.chunks) > 10 and max(u.chunks) <= BODY_RECEIVE_SIZE  # piece by piece
    assert (await client.request(get("/after"))).body == b"whole 0"  # still in step
    await client.aclose()


async def test_other_routes_keep_the_limit(uploads: tuple[Uploads, int]) -> None:
    _, port = uploads
    client = await RawClient.connect(port)
    response = await client.request(post("/other", 20 * MB))
    assert response.status == 413
    await client.aclose()


async def test_an_unread_rest_closes_the_connection(uploads: tuple[Uploads, int]) -> None:
    u, port = uploads
    u.read_only_first = True
    client = await RawClient.connect(port)
    await client.send(post("/upload", 5 * MB) + b"x" * 100_000)
    response = await client.read_response()
    assert response.body.startswith(b"streamed ") and response.headers["connection"] == "close"
    await client.aclose()


async def test_100_continue_comes_when_the_handler_reads(uploads: tuple[Uploads, int]) -> None:
    _, port = uploads
    client = await RawClient.connect(port)
    await client.send(post("/upload", 5, extra="Expect: 100-continue\r\n"))
    interim = await client.read_response(head=True)
    assert interim.status == 100
    await client.send(b"hello")
    assert (await client.read_response()).body == b"streamed 5"
    await client.aclose()


async def test_pipelined_requests_after_a_streamed_body(uploads: tuple[Uploads, int]) -> None:
    _, port = uploads
    client = await RawClient.connect(port)
    await client.send(post("/upload", 3) + b"abc" + get("/next"))
    assert (await client.read_response()).body == b"streamed 3"
    assert (await client.read_response()).body == b"whole 0"
    await client.aclose()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"5\r\nhello\r\nzz\r\n", 400),  # malformed chunk size
        (b"5\r\nhel", None),  # cut off: the client goes away
    ],
)
async def test_a_malformed_or_cut_off_body_harms_no_one(
    uploads: tuple[Uploads, int],
    body: bytes,
    status: int | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, port = uploads
    caplog.set_level(logging.INFO, logger="geetrio.http")
    client = await RawClient.connect(port)
    await client.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await client.send(body)
    if status is None:
        await client.stream.send_eof()  # type: ignore[attr-defined]
        answer = await client.read_until_eof()
        assert answer.startswith(b"HTTP/1.1 400 ")  # said, though nobody may read it
        assert any("inside the body" in r.getMessage() for r in caplog.records)
    else:
        response = await client.read_response()
        assert response.status == status
        await client.aclose()
    other = await RawClient.connect(port)
    assert (await other.request(get("/fine"))).body == b"whole 0"
    await other.aclose()


async def test_a_trickling_streamed_body_gets_408(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client = await memory_uploads(nursery, ServerConfig(header_timeout=2.0, body_timeout=5.0))
    await client.send(post("/upload", 100))
    started = trio.current_time()

    response = await answer_while_trickling(client)  # a byte a second
    assert response.status == 408
    assert trio.current_time() - started == pytest.approx(5.0, abs=1.1)


async def test_a_trickling_chunk_size_line_of_a_streamed_body_gets_the_header_timeout(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """As for a whole body: a chunk-size line that trickles in is no progress, held to
    header_timeout from when it stalled, not to the whole body_timeout."""
    client = await memory_uploads(nursery, ServerConfig(header_timeout=2.0, body_timeout=60.0))
    await client.send(
        b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    )
    started = trio.current_time()
    with pytest.raises(trio.BrokenResourceError):  # the server hangs up on us
        for _ in range(20):  # a hex digit every 1.5 s: 30 s, far less than body_timeout
            await trio.sleep(1.5)
            await client.send(b"0")
    assert trio.current_time() - started < 10  # ended near 2 s, not at 60
    assert (await client.read_until_eof()).startswith(b"HTTP/1.1 408 ")


# ------------------------------------------------------------------ Gee


async def test_gee_routes_stream_bodies(nursery: trio.Nursery) -> None:
    app = default()  # with recovery(): a bad body is still the server's 400

    @app.post("/upload", stream_body=True)
    async def upload(c: Context) -> None:
        with pytest.raises(RuntimeError, match="stream_body"):
            _ = c.body
        sizes = [len(chunk) async for chunk in c.stream_body()]
        c.json(200, {"bytes": sum(sizes)})

    @app.post("/form")
    async def form(c: Context) -> None:
        chunks = [chunk async for chunk in c.stream_body()]  # one chunk: the whole body
        c.json(200, {"chunks": len(chunks), "name": c.post_form("name")})

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    size = 12 * MB
    await client.send(post("/upload", size))
    async with trio.open_nursery() as senders:
        senders.start_soon(client.send, b"y" * size)
        response = await client.read_response()
    assert response.body == b'{"bytes":%d}' % size
    form_body = b"name=tom"
    response = await client.request(
        post("/form", len(form_body), extra="Content-Type: application/x-www-form-urlencoded\r\n")
        + form_body
    )
    assert response.body == b'{"chunks":1,"name":"tom"}'
    await client.send(
        b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    )
    assert (await client.read_response()).status == 400
    await client.aclose()


def test_which_routes_stream() -> None:
    app = Engine()
    app.put("/a/:id", stream_body=True)(lambda c: None)
    app.patch("/b", stream_body=True)(lambda c: None)
    app.post("/c")(lambda c: None)

    def request(method: str, path: str) -> Request:
        return Request(method, path, path, "", [("Host", "t")])

    assert app.streams_body(request("PUT", "/a/1")) and app.streams_body(request("PATCH", "/b"))
    assert not app.streams_body(request("POST", "/c"))
    assert not app.streams_body(request("POST", "/missing"))
