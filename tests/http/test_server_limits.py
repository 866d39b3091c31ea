"""What a hostile or unlucky client can do to the server: bodies that trickle, bodies
that pile up in memory, running out of descriptors, upgrades nobody takes, streamed
responses whose length lies."""

from __future__ import annotations

import errno
import logging
import os
import resource
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from geetrio.http import (
    Request,
    Response,
    ServerConfig,
    default_max_connections,
    serve,
    serve_listeners,
)
from tests.helpers import MemoryListener, RawClient, answer_while_trickling, get, read_until

TEXT = [("content-type", "text/plain")]
CHILD_SERVER = Path(__file__).with_name("child_server.py")


async def echo(request: Request) -> Response:
    return Response(200, TEXT, f"{request.method} {request.path} {len(request.body)}".encode())


# ------------------------------------------------------------------ bodies


async def test_a_body_that_trickles_in_past_body_timeout_gets_408(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    listener = MemoryListener()
    config = ServerConfig(header_timeout=2.0, body_timeout=5.0)
    await nursery.start(partial(serve_listeners, echo, [listener], config=config))
    client = await listener.connect()
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
    started = trio.current_time()

    response = await answer_while_trickling(client)  # a byte a second
    assert response.status == 408
    assert trio.current_time() - started == pytest.approx(5.0, abs=1.1)


def test_body_timeout_is_validated() -> None:
    with pytest.raises(ValueError, match="body_timeout"):
        ServerConfig(body_timeout=0)


@asynccontextmanager
async def child_server(*args: str) -> AsyncIterator[tuple[trio.Process, int]]:
    """``tests/http/child_server.py`` in its own process; yields it and its port."""
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            partial(
                trio.run_process,
                [sys.executable, str(CHILD_SERVER), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
            )
        )
        try:
            assert process.stdout is not None
            line = await read_until(process.stdout, lambda o: o.endswith(b"\n"), "child_server")
            yield process, int(line)
        finally:
            process.kill()


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_bodies_are_freed_when_their_connection_closes() -> None:
    """Rounds of 8 MB uploads, each on a fresh connection: the server's memory stays
    flat without any garbage collection being asked for."""
    body = b"x" * (8 * 1024 * 1024)
    head = b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with child_server() as (process, port):
        samples = []
        for _ in range(4):
            for _ in range(10):
                client = await RawClient.connect(port)
                response = await client.request(head + body)
                assert response.body == b"%d" % len(body)
                await client.aclose()
            samples.append(rss_bytes(process.pid))
    growth = max(samples) - samples[0]
    assert growth < 16 * 1024 * 1024, f"RSS per round: {[s >> 20 for s in samples]} MiB"


# ------------------------------------------------------------------ connections


def test_the_default_connection_cap_follows_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert ServerConfig().connection_cap() == default_max_connections()
    if soft != resource.RLIM_INFINITY:
        assert default_max_connections() == max(soft - max(64, soft // 8), 16)
    assert ServerConfig(max_connections=7).connection_cap() == 7


async def test_past_the_descriptor_limit_clients_wait_instead_of_failing() -> None:
    """nofile=128: the cap (64) stops accepting before accept() meets EMFILE; extra
    clients wait in the backlog and are served once others leave (or, since the server
    is full of idle connections, in place of the oldest)."""
    async with child_server("--nofile", "128") as (process, port):
        idle = [await RawClient.connect(port) for _ in range(3)]
        for client in idle:  # the first connections are served
            assert (await client.request(get())).status == 200
        idle += [await RawClient.connect(port) for _ in range(97)]
        waiting = await RawClient.connect(port)
        await waiting.send(get("/late"))
        for client in idle:
            await client.aclose()
        response = await waiting.read_response()
        assert (response.status, response.body) == (200, b"0")
        await waiting.aclose()
        process.kill()
        assert process.stderr is not None
        log = b""
        while chunk := await process.stderr.receive_some(65536):
            log += chunk
    assert b"accept failed" not in log, log.decode()


class FlakyListener(MemoryListener):
    """``accept`` fails with EMFILE ``failures`` times, then works."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def accept(self) -> trio.abc.Stream:
        if self.failures:
            self.failures -= 1
            await trio.lowlevel.checkpoint()
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return await super().accept()


async def test_emfile_backs_off_and_logs_once_per_burst(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geetrio.http")
    listener = FlakyListener(failures=20)
    await nursery.start(partial(serve_listeners, echo, [listener]))
    client = await listener.connect()
    started = trio.current_time()
    assert (await client.request(get("/after"))).body == b"GET /after 0"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("accept failed (EMFILE)" in m for m in messages) == 1
    assert sum("accepting again after 20" in m for m in messages) == 1
    assert trio.current_time() - started > 10  # backed off up to 1 s, not 100 ms a try


# ------------------------------------------------------------------ upgrades


async def test_an_upgrade_nobody_takes_is_answered_and_serving_goes_on(
    nursery: trio.Nursery,
) -> None:
    port = await nursery.start(serve, echo, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    await client.send(
        b"GET /a HTTP/1.1\r\nHost: t\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n" + get("/b")
    )
    first = await client.read_response()
    second = await client.read_response()
    assert (first.status, first.body, second.body) == (200, b"GET /a 0", b"GET /b 0")
    assert (await client.request(get("/c"))).body == b"GET /c 0"
    await client.aclose()


async def test_a_connect_nobody_takes_ends_the_connection(nursery: trio.Nursery) -> None:
    port = await nursery.start(serve, echo, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    await client.send(b"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n" + get("/b"))
    response = await client.read_response()
    assert response.headers["connection"] == "close"
    assert await client.read_until_eof() == b""  # the bytes after it are not HTTP


# ------------------------------------------------------------------ streamed responses


class Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [((b"abc", b"def"), b"abcd"), ((b"ab",), b"ab")],
    ids=["longer", "shorter"],
)
async def test_a_stream_whose_length_lies_ends_the_connection(
    nursery: trio.Nursery, chunks: tuple[bytes, ...], expected: bytes
) -> None:
    streams: list[Chunks] = []

    async def lying(request: Request) -> Response:
        streams.append(Chunks(*chunks))
        return Response(200, [("content-length", "4")], stream=streams[-1])

    port = await nursery.start(serve, lying, "127.0.0.1", 0)
    client = await RawClient.connect(port)
    await client.send(get("/1") + get("/2"))
    data = await client.read_until_eof()  # the second request is never answered
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and body == expected
    assert [s.closed for s in streams] == [True]


async def test_a_stream_is_closed_when_sending_its_head_fails(nursery: trio.Nursery) -> None:
    streams: list[Chunks] = []
    sent_head = trio.Event()

    async def big(request: Request) -> Response:
        streams.append(Chunks(b"x" * 1000))
        sent_head.set()
        return Response(
            200, [("content-length", "1000"), ("x-pad", "p" * 60000)], stream=streams[-1]
        )

    listener = MemoryListener(lockstep=True)
    config = ServerConfig(send_timeout=1.0)
    await nursery.start(partial(serve_listeners, big, [listener], config=config))
    client = await listener.connect()
    await client.send(get())
    await sent_head.wait()
    await client.aclose()  # gone before reading the head: its send fails
    await trio.testing.wait_all_tasks_blocked()
    assert [s.closed for s in streams] == [True]
