"""Responses of unknown length: chunked to HTTP/1.1 clients (the connection stays
usable), close-delimited to HTTP/1.0 ones; a producer that fails midway leaves the body
visibly cut; a client that goes away cancels the producer at once; Server-Sent Events
with ids, retry, pings on a quiet channel and ``Last-Event-ID``."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from geetrio.web import Context, Engine, ServerSentEvent
from tests.helpers import RawClient, RawResponse, get


async def read_chunked(client: RawClient) -> list[bytes]:
    """The chunks of a chunked body (after ``read_response`` took the head), through
    the last (empty) one; raises EOFError when the body is cut."""
    chunks = []
    while True:
        while b"\r\n" not in client.buffer:
            if not await client._fill():
                raise EOFError(f"cut inside a chunk size; got {client.buffer!r}")
        size_line, _, rest = client.buffer.partition(b"\r\n")
        size = int(size_line, 16)
        while len(rest) < size + 2:
            if not await client._fill():
                raise EOFError("cut inside a chunk")
            rest = client.buffer.partition(b"\r\n")[2]
        chunk, client.buffer = rest[:size], rest[size + 2 :]
        assert rest[size : size + 2] == b"\r\n"
        if size == 0:
            return chunks
        chunks.append(chunk)


def app(events: dict[str, trio.Event]) -> Engine:
    engine = Engine()

    @engine.get("/numbers")
    async def numbers(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            for i in range(3):
                yield b"%d;" % i
                yield b""  # skipped: an empty chunk would end the body

        c.stream(200, produce())

    @engine.get("/broken")
    async def broken(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            yield b"first part"
            raise RuntimeError("the source failed")

        c.stream(200, produce())

    @engine.get("/forever")
    async def forever(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            try:
                yield b"started"
                await trio.sleep_forever()  # waits for news that never come
            finally:
                events["stopped"].set()

        c.stream(200, produce())

    @engine.get("/flood")
    async def flood(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            try:
                while True:
                    yield b"x" * (1 << 20)
            finally:
                events["stopped"].set()

        c.stream(200, produce())

    @engine.get("/events")
    async def sse(c: Context) -> None:
        start = int(c.last_event_id or 0)

        async def produce():  # type: ignore[no-untyped-def]
            yield ServerSentEvent("hello\nworld", event="greeting", id=str(start + 1), retry=500)
            yield f"plain {start + 2}"

        c.sse(produce())

    @engine.get("/quiet")
    async def quiet(c: Context) -> None:
        send, receive = trio.open_memory_channel[str](0)
        events["channel"] = send  # type: ignore[assignment]
        c.sse(receive, ping=15.0)

    return engine


async def serve(nursery: trio.Nursery, events: dict[str, trio.Event]) -> int:
    port: int = await nursery.start(app(events).serve, "127.0.0.1", 0)
    return port


async def test_an_unknown_length_goes_chunked_and_the_connection_is_reused(
    nursery: trio.Nursery,
) -> None:
    client = await RawClient.connect(await serve(nursery, {}))
    response = await client.request(get("/numbers"))
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers and "connection" not in response.headers
    assert await read_chunked(client) == [b"0;", b"1;", b"2;"]
    again = await client.request(get("/numbers"))  # the same connection
    assert again.status == 200 and await read_chunked(client) == [b"0;", b"1;", b"2;"]
    await client.send(b"HEAD /numbers HTTP/1.1\r\nHost: t\r\n\r\n")
    headed = await client.read_response(head=True)
    assert headed.headers["transfer-encoding"] == "chunked" and client.buffer == b""
    await client.aclose()


async def test_an_http_1_0_client_gets_the_body_until_the_connection_closes(
    nursery: trio.Nursery,
) -> None:
    client = await RawClient.connect(await serve(nursery, {}))
    response: RawResponse = await client.request(get("/numbers", version="1.0"))
    assert "transfer-encoding" not in response.headers
    assert response.headers["connection"] == "close"
    assert await client.read_until_eof() == b"0;1;2;"


async def test_a_producer_failing_midway_leaves_the_body_visibly_cut(
    nursery: trio.Nursery,
) -> None:
    client = await RawClient.connect(await serve(nursery, {}))
    await client.request(get("/broken"))
    # The chunk that went out, then the connection closes: no last chunk, so the
    # client knows the body is incomplete.
    assert await client.read_until_eof() == b"a\r\nfirst part\r\n"


async def test_a_client_going_away_cancels_the_producer_at_once(nursery: trio.Nursery) -> None:
    events = {"stopped": trio.Event()}
    client = await RawClient.connect(await serve(nursery, events))
    await client.request(get("/forever"))
    while b"started" not in client.buffer:
        assert await client._fill()
    await client.aclose()
    with trio.fail_after(5):  # not at its next write: it never writes again
        await events["stopped"].wait()


async def test_server_sent_events_and_last_event_id(nursery: trio.Nursery) -> None:
    client = await RawClient.connect(await serve(nursery, {}))
    response = await client.request(get("/events"))
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert b"".join(await read_chunked(client)) == (
        b"event: greeting\nid: 1\nretry: 500\ndata: hello\ndata: world\n\ndata: plain 2\n\n"
    )
    await client.request(get("/events", extra="Last-Event-ID: 41\r\n"))
    assert b"id: 42\n" in b"".join(await read_chunked(client))  # resumed after 41
    await client.aclose()


async def test_a_quiet_channel_gets_pings_and_its_end_ends_the_stream(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    events: dict[str, trio.Event] = {}
    client = await RawClient.connect(await serve(nursery, events))
    await client.request(get("/quiet"))
    while b": ping" not in client.buffer:  # 15 quiet (virtual) seconds
        assert await client._fill()
    send = events["channel"]
    await send.send("news")  # type: ignore[attr-defined]
    await send.aclose()  # type: ignore[attr-defined]
    body = b"".join(await read_chunked(client))
    assert body.startswith(b": ping\n\n") and body.endswith(b"data: news\n\n")
    await client.aclose()


def test_event_fields_cannot_smuggle_lines() -> None:
    import pytest

    with pytest.raises(ValueError, match="line breaks"):
        ServerSentEvent("x", id="1\ndata: forged").encode()
    with pytest.raises(ValueError, match="line breaks"):
        ServerSentEvent("x", event="a\rb").encode()
    assert ServerSentEvent("a\r\nb\rc").encode() == b"data: a\ndata: b\ndata: c\n\n"


async def test_a_client_leaving_mid_download_is_no_error_in_the_logs(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="geetrio.http")
    events = {"stopped": trio.Event()}
    port = await serve(nursery, events)
    for path in ("/forever", "/flood"):  # waiting for news, or writing when it goes
        events["stopped"] = trio.Event()
        client = await RawClient.connect(port)
        await client.request(get(path))
        while not client.buffer:  # some of the body came
            assert await client._fill()
        await client.aclose()
        with trio.fail_after(5):
            await events["stopped"].wait()
    await trio.testing.wait_all_tasks_blocked()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
