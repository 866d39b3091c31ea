"""The pipelining client against geetrio's server and against scripted hostile ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trio
import trio.testing

from geetrio.http import ClientError, Request, Response, ResponseParser, serve
from geetrio.http._pipeline import PipelinedClient, open_pipelined_client
from tests.helpers import refusing_port

TEXT = [("content-type", "text/plain")]


class Server:
    def __init__(self) -> None:
        self.peers: set[str] = set()
        self.slow_entered = trio.Event()
        self.slow_release = trio.Event()

    async def handler(self, request: Request) -> Response:
        self.peers.add(request.remote_addr)
        if request.path == "/slow":
            self.slow_entered.set()
            await self.slow_release.wait()
        return Response(200, TEXT, request.path.encode())


@pytest.fixture
async def server(nursery: trio.Nursery) -> tuple[Server, int]:
    s = Server()
    return s, await nursery.start(serve, s.handler, "127.0.0.1", 0)


@pytest.fixture
async def client() -> AsyncIterator[PipelinedClient]:
    async with open_pipelined_client(connections_per_host=2) as c:
        yield c


async def test_many_concurrent_requests_share_few_connections(
    server: tuple[Server, int], client: PipelinedClient
) -> None:
    s, port = server
    answers: dict[int, bytes] = {}

    async def one(i: int) -> None:
        response = await client.fetch("GET", "127.0.0.1", port, f"/n{i}")
        answers[i] = response.body

    async with trio.open_nursery() as nursery:
        for i in range(300):
            nursery.start_soon(one, i)
    assert answers == {i: f"/n{i}".encode() for i in range(300)}  # each its own answer
    assert 1 <= len(s.peers) <= 2


async def test_a_cancelled_caller_leaves_the_connection_in_step(
    server: tuple[Server, int],
) -> None:
    s, port = server
    async with open_pipelined_client(connections_per_host=1) as client:
        later: list[bytes] = []

        async def after_slow() -> None:
            await s.slow_entered.wait()  # queued behind /slow on the one connection
            later.append((await client.fetch("GET", "127.0.0.1", port, "/after")).body)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(after_slow)
            with trio.CancelScope() as scope:
                nursery.start_soon(_cancel_when, s.slow_entered, scope)
                await client.fetch("GET", "127.0.0.1", port, "/slow")
            assert scope.cancelled_caught
            await trio.testing.wait_all_tasks_blocked()
            s.slow_release.set()  # /slow's answer comes now and is dropped
        assert later == [b"/after"]  # not /slow's answer
        assert (await client.fetch("GET", "127.0.0.1", port, "/again")).body == b"/again"
        assert len(s.peers) == 1  # the same connection all along


async def _cancel_when(event: trio.Event, scope: trio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


async def scripted(
    nursery: trio.Nursery, script: Callable[[trio.SocketStream], Awaitable[None]]
) -> int:
    listeners = await nursery.start(trio.serve_tcp, script, 0)
    return int(listeners[0].socket.getsockname()[1])


async def _read_requests(stream: trio.SocketStream, count: int) -> None:
    seen = b""
    while seen.count(b"\r\n\r\n") < count:
        seen += await stream.receive_some(65536)


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # closes without answering
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",  # closes mid-body
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",  # head over the limit
        b"HTTP/1.1 200 OK\r\nX-Endless: " + b"a" * 200_000,  # a header that never ends
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n" + b"x" * 70_000,  # too big
    ],
    ids=["close", "truncated", "garbage", "big-head", "endless-head", "big-body"],
)
async def test_a_broken_server_fails_every_waiting_request(
    nursery: trio.Nursery, answer: bytes
) -> None:
    async def script(stream: trio.SocketStream) -> None:
        await _read_requests(stream, 3)
        await stream.send_all(answer)
        if len(answer) < 100:  # close or truncate; the others fail on what they sent
            await stream.aclose()
            return
        await trio.sleep_forever()

    port = await scripted(nursery, script)
    errors: list[Exception] = []
    async with open_pipelined_client(connections_per_host=1, max_response_bytes=65536) as client:

        async def one(i: int) -> None:
            with pytest.raises(ClientError) as info:
                await client.fetch("GET", "127.0.0.1", port, f"/{i}")
            errors.append(info.value)

        with trio.fail_after(5):
            async with trio.open_nursery() as requests:
                for i in range(3):
                    requests.start_soon(one, i)
    assert len(errors) == 3


async def test_after_a_failure_the_next_request_opens_a_fresh_connection(
    nursery: trio.Nursery,
) -> None:
    connections: list[int] = []

    async def script(stream: trio.SocketStream) -> None:
        connections.append(1)
        await _read_requests(stream, 1)
        if len(connections) == 1:
            await stream.aclose()  # the first connection dies
            return
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await trio.sleep_forever()

    port = await scripted(nursery, script)
    async with open_pipelined_client() as client:
        with pytest.raises(ClientError):
            await client.fetch("GET", "127.0.0.1", port, "/first")
        assert (await client.fetch("GET", "127.0.0.1", port, "/second")).body == b"ok"
    assert len(connections) == 2


async def test_an_unreachable_host_is_a_client_error(client: PipelinedClient) -> None:
    with refusing_port() as port, pytest.raises(ClientError, match="cannot connect"):
        await client.fetch("GET", "127.0.0.1", port, "/")


async def test_idle_connections_are_retired_before_the_server_closes_them(
    server: tuple[Server, int], autojump_clock: trio.testing.MockClock
) -> None:
    s, port = server
    async with open_pipelined_client(idle_timeout=4.0) as client:
        assert (await client.fetch("GET", "127.0.0.1", port, "/1")).body == b"/1"
        await trio.sleep(4.5)  # idle past the client's limit, not yet the server's 5 s
        assert (await client.fetch("GET", "127.0.0.1", port, "/2")).body == b"/2"
    assert len(s.peers) == 2


async def test_what_it_refuses(client: PipelinedClient) -> None:
    with pytest.raises(ValueError, match="HEAD"):
        await client.fetch("HEAD", "127.0.0.1", 1, "/")
    with pytest.raises(ValueError):
        await client.fetch("GET", "127.0.0.1", 1, "no-slash")
    client.close()
    with pytest.raises(ClientError, match="closed"):
        await client.fetch("GET", "127.0.0.1", 1, "/")


def test_the_response_parser_reads_pipelined_responses() -> None:
    parser = ResponseParser(pipelined=True)
    one = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
    parser.feed(one + one + one[:10])
    assert [r.body for r in parser.pop_responses()] == [b"a", b"a"]
    parser.feed(one[10:])
    assert [r.body for r in parser.pop_responses()] == [b"a"]
    parser.eof()  # between responses: a clean end


def test_the_response_parser_bounds_the_head() -> None:
    parser = ResponseParser(max_head=1024)
    with pytest.raises(ClientError, match="head"):
        parser.feed(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200)
    endless = ResponseParser(max_head=1024)
    endless.feed(b"HTTP/1.1 200 OK\r\nX-Endless: ")
    with pytest.raises(ClientError, match="head"):
        for _ in range(10):
            endless.feed(b"a" * 200)


async def test_a_slow_answer_does_not_hold_up_the_requests_behind_it(
    server: tuple[Server, int], autojump_clock: trio.testing.MockClock
) -> None:
    s, port = server
    async with (
        open_pipelined_client(connections_per_host=1, stall_after=0.02) as client,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(client.fetch, "GET", "127.0.0.1", port, "/slow")
        await s.slow_entered.wait()
        await trio.sleep(0.05)  # /slow has been waiting longer than stall_after
        with trio.fail_after(5):  # queued behind /slow it would wait for ever
            fast = await client.fetch("GET", "127.0.0.1", port, "/fast")
        assert fast.body == b"/fast"
        s.slow_release.set()
    assert len(s.peers) == 2  # the fast request went around, on a second connection


async def test_an_error_in_the_block_comes_out_as_itself() -> None:
    with pytest.raises(KeyError):  # not an ExceptionGroup around it
        async with open_pipelined_client():
            raise KeyError("mine")
