"""The HTTP server over real sockets (and memory streams where time matters)."""

from __future__ import annotations

import logging
from functools import partial

import pytest
import trio
import trio.testing

from geetrio.http import Request, Response, ServerConfig, serve, serve_listeners
from tests.helpers import MemoryListener, RawClient, get

TEXT = [("content-type", "text/plain")]


async def echo(request: Request) -> Response:
    if request.path == "/boom":
        raise RuntimeError("handler exploded")
    body = f"{request.method} {request.path} {len(request.body)}".encode()
    return Response(200, TEXT, body)


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    return await nursery.start(serve, echo, "127.0.0.1", 0)


async def test_serve_reports_the_bound_port(port: int) -> None:
    assert port > 0
    client = await RawClient.connect(port)
    response = await client.request(get("/x"))
    assert (response.status, response.body) == (200, b"GET /x 0")
    assert response.headers["server"] == "geetrio"
    assert "date" in response.headers
    await client.aclose()


async def test_keep_alive_serves_many_requests_on_one_connection(port: int) -> None:
    client = await RawClient.connect(port)
    for i in range(20):
        response = await client.request(get(f"/n{i}"))
        assert response.body == f"GET /n{i} 0".encode()
        assert "connection" not in response.headers
    await client.aclose()


async def test_pipelined_requests_are_answered_in_order(port: int) -> None:
    client = await RawClient.connect(port)
    await client.send(
        get("/a")
        + b"POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz"
        + get("/c")
        + b"POST /d HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
    )
    bodies = [(await client.read_response()).body for _ in range(4)]
    assert bodies == [b"GET /a 0", b"POST /b 3", b"GET /c 0", b"POST /d 2"]
    await client.aclose()


async def test_connection_close_and_http10(port: int) -> None:
    client = await RawClient.connect(port)
    response = await client.request(get("/", extra="Connection: close\r\n"))
    assert response.headers["connection"] == "close"
    assert await client.read_until_eof() == b""
    client = await RawClient.connect(port)
    response = await client.request(b"GET /old HTTP/1.0\r\n\r\n")
    assert response.body == b"GET /old 0"
    assert await client.read_until_eof() == b""
    client = await RawClient.connect(port)
    await client.request(b"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert (
        await client.request(b"GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    ).status == 200
    await client.aclose()


async def test_head_sends_the_length_but_no_body(port: int) -> None:
    client = await RawClient.connect(port)
    await client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n" + get("/after"))
    head = await client.read_response(head=True)
    assert head.headers["content-length"] == str(len(b"HEAD /h 0"))
    assert head.body == b""
    assert (await client.read_response()).body == b"GET /after 0"
    await client.aclose()


async def test_expect_100_continue(port: int) -> None:
    client = await RawClient.connect(port)
    await client.send(
        b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    interim = await client.read_response()
    assert interim.status == 100
    await client.send(b"hello")
    final = await client.read_response()
    assert (final.status, final.body) == (200, b"POST /up 5")
    await client.aclose()


async def test_expect_100_continue_over_the_limit_gets_413_without_100(
    nursery: trio.Nursery,
) -> None:
    port = await nursery.start(
        partial(serve, echo, "127.0.0.1", 0, config=ServerConfig(max_body_bytes=4))
    )
    client = await RawClient.connect(port)
    await client.send(
        b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    response = await client.read_response()
    assert response.status == 413
    assert response.headers["connection"] == "close"
    assert await client.read_until_eof() == b""


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"b" * 2000 + b"\r\n\r\n", 431),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n", 413),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + b"x" * 128,
            413,
        ),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS hello
        (
            b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\nHost: t\r\n\r\n", 505),
    ],
)
async def test_bad_requests_get_their_status_then_a_clean_close(
    nursery: trio.Nursery, data: bytes, status: int
) -> None:
    config = ServerConfig(max_header_bytes=1024, max_uri_bytes=256, max_body_bytes=64)
    port = await nursery.start(partial(serve, echo, "127.0.0.1", 0, config=config))
    client = await RawClient.connect(port)
    response = await client.request(data)
    assert response.status == status
    assert response.headers["connection"] == "close"
    assert response.body.strip()  # a human-readable reason
    assert await client.read_until_eof() == b""
    # ...and the server is still fine for everyone else.
    other = await RawClient.connect(port)
    assert (await other.request(get("/still-ok"))).status == 200
    await other.aclose()


async def test_a_handler_error_is_500_and_the_connection_goes_on(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    client = await RawClient.connect(port)
    other = await RawClient.connect(port)
    response = await client.request(get("/boom"))
    assert (response.status, response.body) == (500, b"Internal Server Error\n")
    assert (await client.request(get("/next"))).status == 200
    assert (await other.request(get("/other"))).status == 200
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info and r.exc_info[1]]
    assert [str(exc) for exc in logged] == ["handler exploded"]  # with its traceback
    await client.aclose()
    await other.aclose()


async def test_response_header_with_a_line_break_becomes_500(nursery: trio.Nursery) -> None:
    async def inject(request: Request) -> Response:
        return Response(200, [("x-evil", "a\r\nSet-Cookie: stolen=1")], b"")

    port = await nursery.start(serve, inject, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    response = await client.request(get())
    assert response.status == 500
    assert "set-cookie" not in response.headers
    await client.aclose()


async def test_streamed_body_is_sent_and_closed(nursery: trio.Nursery) -> None:
    closed = trio.Event()

    class Chunks:
        def __init__(self) -> None:
            self.parts = [b"ab", b"cd", b"ef"]

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.parts:
                raise StopAsyncIteration
            return self.parts.pop(0)

        async def aclose(self) -> None:
            closed.set()

    async def streamer(request: Request) -> Response:
        return Response(200, [("content-length", "6")], stream=Chunks())

    port = await nursery.start(serve, streamer, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    assert (await client.request(get())).body == b"abcdef"
    # One connection answers in order: the second answer means the first stream was
    # closed (the server closes it before reading the next request).
    assert (await client.request(get())).body == b"abcdef"
    assert closed.is_set()
    await client.aclose()


async def test_a_stream_failing_midway_closes_the_connection(nursery: trio.Nursery) -> None:
    async def broken_chunks():  # type: ignore[no-untyped-def]
        yield b"abc"
        raise OSError("disk gone")

    async def streamer(request: Request) -> Response:
        return Response(200, [("content-length", "10")], stream=broken_chunks())

    port = await nursery.start(serve, streamer, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    await client.send(get())
    data = await client.read_until_eof()
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"abc")


# --------------------------------------------------------------- timeouts (mock clock)


async def start_memory_server(
    nursery: trio.Nursery,
    config: ServerConfig,
    handler=echo,
    lockstep=False,  # type: ignore[no-untyped-def]
) -> MemoryListener:
    listener = MemoryListener(lockstep=lockstep)
    await nursery.start(partial(serve_listeners, handler, [listener], config=config))
    return listener


async def test_slowloris_head_gets_408(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = await start_memory_server(nursery, ServerConfig(header_timeout=2.0))
    client = await listener.connect()
    started = trio.current_time()
    answered_at = 0.0

    async def read_answer() -> None:
        nonlocal answered_at
        assert (await client.read_response()).status == 408
        answered_at = trio.current_time()

    async with trio.open_nursery() as readers:
        readers.start_soon(read_answer)
        await client.send(b"GET / HTTP/1.1\r\n")
        with pytest.raises(trio.BrokenResourceError):  # the server hangs up on us
            for _ in range(10):  # a byte now and then never completes the head
                await trio.sleep(0.5)
                await client.send(b"X")
    assert 2.0 <= answered_at - started <= 2.5
    assert await client.read_until_eof() == b""


async def test_idle_keep_alive_connection_is_closed(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = await start_memory_server(nursery, ServerConfig(keep_alive_timeout=3.0))
    client = await listener.connect()
    assert (await client.request(get())).status == 200
    answered = trio.current_time()
    assert await client.read_until_eof() == b""  # closed, without a 408
    assert 3.0 <= trio.current_time() - answered <= 3.5


async def test_a_connection_that_never_sends_is_closed(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = await start_memory_server(nursery, ServerConfig(header_timeout=4.0))
    client = await listener.connect()
    assert await client.read_until_eof() == b""
    assert 4.0 <= trio.current_time() <= 4.6


async def test_a_stalled_body_gets_408(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = await start_memory_server(nursery, ServerConfig(header_timeout=2.0))
    client = await listener.connect()
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
    assert (await client.read_response()).status == 408


async def test_a_client_that_never_reads_is_dropped(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    async def big(request: Request) -> Response:
        return Response(200, TEXT, b"x" * 10_000_000)

    config = ServerConfig(send_timeout=5.0, keep_alive_timeout=100.0)
    listener = await start_memory_server(nursery, config, handler=big, lockstep=True)
    client = await listener.connect()
    await client.send(get())
    await trio.sleep(10)  # never reading: the server must give up on us
    started = trio.current_time()
    # Had the server not dropped us, reading would get the response and then wait
    # out the 100 s keep-alive; EOF without waiting shows the send timed out.
    # (A lockstep stream keeps a cancelled send's bytes queued, so they still arrive.)
    await client.read_until_eof()
    assert trio.current_time() == started


async def test_max_connections_queues_the_next_client(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = await start_memory_server(nursery, ServerConfig(max_connections=1))
    first = await listener.connect()
    assert (await first.request(get("/1"))).status == 200
    second = await listener.connect()
    await second.send(get("/2"))
    with trio.move_on_after(1.0) as waited:
        await second.read_response()
    assert waited.cancelled_caught  # not served while the first holds the only slot
    await first.aclose()
    assert (await second.read_response()).body == b"GET /2 0"


# --------------------------------------------------------------- graceful shutdown


class Gate:
    """A handler for ``/slow`` that blocks until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = trio.Event()
        self.release = trio.Event()

    async def handler(self, request: Request) -> Response:
        if request.path == "/slow":
            self.entered.set()
            await self.release.wait()
        return await echo(request)


async def start_with_shutdown(
    nursery: trio.Nursery,
    grace: float,
    gate: Gate,
    listeners: list | None = None,  # type: ignore[type-arg]
) -> tuple[int, trio.Event, trio.Event]:
    """Serve ``gate.handler`` (on ``listeners``, else on a TCP port); returns (port,
    the shutdown event, an event set once serve returned)."""
    shutdown, done = trio.Event(), trio.Event()

    async def run_server(task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        config = ServerConfig(grace=grace)
        chosen = listeners or await trio.open_tcp_listeners(0, host="127.0.0.1")
        await serve_listeners(
            gate.handler, chosen, config=config, shutdown=shutdown, task_status=task_status
        )
        done.set()

    return await nursery.start(run_server), shutdown, done


async def refused(port: int) -> bool:
    sock = trio.socket.socket()
    with sock:
        try:
            await sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


async def test_graceful_shutdown_finishes_in_flight_and_refuses_new(nursery: trio.Nursery) -> None:
    gate = Gate()
    port, shutdown, done = await start_with_shutdown(nursery, 5.0, gate)
    busy = await RawClient.connect(port)
    idle = await RawClient.connect(port)
    assert (await idle.request(get("/warm"))).status == 200
    await busy.send(get("/slow"))
    await gate.entered.wait()
    shutdown.set()
    # The idle keep-alive connection is closed at once...
    assert await idle.read_until_eof() == b""
    # ...new connections are refused (the listener is closed)...
    await trio.testing.wait_all_tasks_blocked()
    assert await refused(port)
    # ...and the in-flight request completes, told that the connection ends.
    gate.release.set()
    response = await busy.read_response()
    assert (response.status, response.body) == (200, b"GET /slow 0")
    assert response.headers["connection"] == "close"
    assert await busy.read_until_eof() == b""
    await done.wait()


async def test_grace_period_cancels_handlers_that_take_too_long(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    gate = Gate()  # never released
    listener = MemoryListener()
    _, shutdown, done = await start_with_shutdown(nursery, 5.0, gate, [listener])
    busy = await listener.connect()
    await busy.send(get("/slow"))
    await gate.entered.wait()
    shutdown.set()
    started = trio.current_time()
    assert await busy.read_until_eof() == b""  # cancelled: no response, clean close
    assert trio.current_time() - started == pytest.approx(5.0, abs=0.5)  # after the grace
    await done.wait()


async def test_cancelling_serve_closes_every_connection() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve, echo, "127.0.0.1", 0)
        client = await RawClient.connect(port)
        assert (await client.request(get())).status == 200
        nursery.cancel_scope.cancel()
    assert await client.read_until_eof() == b""
    assert await refused(port)


async def test_logging_goes_through_the_geetrio_http_logger(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geetrio.http")
    client = await RawClient.connect(port)
    assert (await client.request(b"BAD\r\n\r\n")).status == 400
    await client.aclose()
    assert any(r.name == "geetrio.http" and "bad request" in r.getMessage() for r in caplog.records)


async def test_a_trickling_trailer_line_gets_the_header_timeout(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    """A trailer (or chunk-size) line that trickles in is held to header_timeout from
    when it stalled, not to the whole body_timeout: a byte every 1.5 s is no progress."""
    config = ServerConfig(header_timeout=2.0, body_timeout=60.0)
    listener = await start_memory_server(nursery, config)
    client = await listener.connect()
    await client.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: "
    )
    started = trio.current_time()
    with pytest.raises(trio.BrokenResourceError):  # the server hangs up on us
        for _ in range(20):  # 30 s of trickle, far less than body_timeout
            await trio.sleep(1.5)
            await client.send(b"a")
    assert trio.current_time() - started < 10  # ended near 2 s, not at 60
    assert (await client.read_until_eof()).startswith(b"HTTP/1.1 408 ")
