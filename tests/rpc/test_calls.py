"""Calls end to end: memory streams (timeouts on the mock clock), TCP, unix sockets and
HTTP CONNECT; errors, concurrency, out-of-order replies, cancellation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from geetrio import rpc
from geetrio.http import PrefixedStream
from geetrio.web import Engine
from tests.helpers import RawClient


@dataclass
class Args:
    num1: int
    num2: int


@dataclass
class Score:
    name: str
    score: int


class Foo:
    def __init__(self) -> None:
        self.gates: dict[str, trio.Event] = {}
        self.entered: dict[str, trio.Event] = {}
        self.cancelled: list[str] = []

    async def Sum(self, args: Args) -> int:
        return args.num1 + args.num2

    async def Get(self, name: str) -> Score:
        return Score(name, len(name) * 100)

    async def Echo(self, value):  # type: ignore[no-untyped-def]  # no annotation: JSON as is
        return value

    async def Boom(self, message: str) -> None:
        raise RuntimeError(message)

    async def Wait(self, key: str) -> str:
        self.entered.setdefault(key, trio.Event()).set()
        try:
            await self.gates.setdefault(key, trio.Event()).wait()
        except trio.Cancelled:
            self.cancelled.append(key)
            raise
        return key

    def Blocking(self, n: int) -> int:  # a plain def: runs in a worker thread
        return sum(range(n))  # work that holds the thread, as a blocking call would

    def _private(self, x: int) -> int:
        return x

    def TwoArgs(self, a: int, b: int) -> int:  # not a service method: two arguments
        return a + b


@pytest.fixture
def foo() -> Foo:
    return Foo()


@pytest.fixture
def server(foo: Foo) -> rpc.Server:
    s = rpc.Server()
    s.register(foo)
    return s


@asynccontextmanager
async def memory_client(
    server: rpc.Server, option: rpc.Option | None = None
) -> AsyncIterator[rpc.Client]:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, server_stream)
        async with rpc.open_client(client_stream, option=option) as client:
            yield client
        nursery.cancel_scope.cancel()


def test_registration_by_reflection(server: rpc.Server) -> None:
    methods = server.services["Foo"].methods
    assert sorted(methods) == ["Blocking", "Boom", "Echo", "Get", "Sum", "Wait"]
    assert methods["Sum"].describe() == ("Args", "int") and methods["Sum"].is_async
    assert not methods["Blocking"].is_async
    with pytest.raises(ValueError, match="already defined"):
        server.register(Foo())
    server.register(Foo(), name="Other")
    with pytest.raises(ValueError, match="no public method"):
        rpc.Server().register(object())


async def test_calls_over_memory_streams(server: rpc.Server) -> None:
    async with memory_client(server) as client:
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
        assert await client.call("Foo.Get", "Tom", reply_type=Score) == Score("Tom", 300)
        assert await client.call("Foo.Echo", {"a": [1, None]}) == {"a": [1, None]}
        assert await client.call("Foo.Blocking", 100_000) == sum(range(100_000))


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("Foo.Nope", 1, "can't find method Nope"),
        ("Bar.Sum", 1, "can't find service Bar"),
        ("NoDot", 1, "ill-formed"),
        ("Foo.Sum", {"num1": "x", "num2": 2}, "argument.num1"),
        ("Foo.Sum", [1, 2], "expected an object for Args"),
        ("Foo.Boom", "100%s %d {0}", "100%s %d {0}"),  # the text as is, never a format
        ("Foo._private", 1, "can't find method _private"),
        ("Foo.TwoArgs", 1, "can't find method TwoArgs"),
    ],
)
async def test_remote_errors_name_what_is_wrong_and_the_connection_goes_on(
    server: rpc.Server, method: str, args: Any, message: str
) -> None:
    async with memory_client(server) as client:
        with pytest.raises(rpc.RemoteError) as info:
            await client.call(method, args)
        assert message in info.value.message
        assert await client.call("Foo.Sum", Args(2, 3)) == 5


async def test_a_reply_that_does_not_decode_is_an_rpc_error(server: rpc.Server) -> None:
    async with memory_client(server) as client:
        with pytest.raises(rpc.RPCError, match=r"the reply of Foo\.Sum"):
            await client.call("Foo.Sum", Args(1, 2), reply_type=str)


async def test_replies_come_back_in_any_order(server: rpc.Server, foo: Foo) -> None:
    results: list[str] = []
    async with memory_client(server) as client:

        async def wait(key: str) -> None:
            results.append(await client.call("Foo.Wait", key))

        async with trio.open_nursery() as nursery:
            for key in "abc":
                nursery.start_soon(wait, key)
            for key in "abc":
                await foo.entered.setdefault(key, trio.Event()).wait()
            for key in "cba":
                foo.gates.setdefault(key, trio.Event()).set()
                await trio.testing.wait_all_tasks_blocked()
    assert results == ["c", "b", "a"]


async def test_a_call_timeout_leaves_the_table_and_drops_the_late_reply(
    server: rpc.Server, foo: Foo, autojump_clock: trio.testing.MockClock
) -> None:
    async with memory_client(server) as client:
        with pytest.raises(rpc.RPCTimeout, match="timed out") as info:
            await client.call("Foo.Wait", "late", timeout=1.0)
        assert isinstance(info.value, trio.TooSlowError)
        assert client._pending == {}
        foo.gates["late"].set()  # its reply comes now: nobody waits for it
        assert await client.call("Foo.Sum", Args(1, 1)) == 2
        with trio.move_on_after(1.0) as scope:  # the caller's own scope works the same
            await client.call("Foo.Wait", "mine")
        assert scope.cancelled_caught and client._pending == {}
        assert await client.call("Foo.Sum", Args(2, 2)) == 4


async def test_the_server_cancels_a_handler_past_the_handle_timeout(
    server: rpc.Server, foo: Foo, autojump_clock: trio.testing.MockClock
) -> None:
    async with memory_client(server, rpc.Option(handle_timeout=2.0)) as client:
        started = trio.current_time()
        with pytest.raises(rpc.RemoteError, match="handle timeout: expect within 2s"):
            await client.call("Foo.Wait", "forever")
        assert trio.current_time() - started == pytest.approx(2.0)
        assert foo.cancelled == ["forever"]  # really cancelled, not abandoned
        assert await client.call("Foo.Sum", Args(1, 2)) == 3


async def test_a_cancelled_caller_never_leaves_half_a_frame(server: rpc.Server) -> None:
    client_stream, server_stream = trio.testing.lockstep_stream_pair()
    big = "x" * 300_000
    part_read, may_go_on = trio.Event(), trio.Event()
    head = len(rpc.Option().encode()) + 10_000

    async def slow_server() -> None:
        """Reads the Option and the first bytes of the big request, pauses, serves."""
        got = b""
        while len(got) < head:
            got += await server_stream.receive_some(1000)
        part_read.set()
        await may_go_on.wait()
        await server.serve_stream(PrefixedStream(server_stream, got))

    async def cancel_mid_frame(scope: trio.CancelScope) -> None:
        await part_read.wait()  # the request's frame is half out
        scope.cancel()
        may_go_on.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(slow_server)
        async with rpc.open_client(client_stream) as client:
            with trio.CancelScope() as scope:
                nursery.start_soon(cancel_mid_frame, scope)
                await client.call("Foo.Echo", big)
            assert scope.cancelled_caught
            assert await client.call("Foo.Sum", Args(20, 22)) == 42  # the stream is in step
        nursery.cancel_scope.cancel()


async def test_a_thousand_concurrent_calls_on_one_connection(server: rpc.Server) -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            results: dict[int, int] = {}

            async def one(i: int) -> None:
                results[i] = await client.call("Foo.Sum", Args(i, i))

            async with trio.open_nursery() as calls:
                for i in range(1000):
                    calls.start_soon(one, i)
            assert results == {i: 2 * i for i in range(1000)}
        nursery.cancel_scope.cancel()


async def test_unix_sockets(server: rpc.Server, tmp_path: Path) -> None:
    path = str(tmp_path / "geerpc.sock")
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve_unix, path)
        async with rpc.xdial(f"unix@{path}") as client:
            assert await client.call("Foo.Sum", Args(3, 4)) == 7
        nursery.cancel_scope.cancel()
    assert not await trio.Path(path).exists()  # removed when serving stops


async def test_over_http_connect_and_the_debug_page(server: rpc.Server) -> None:
    app = Engine()
    server.mount(app)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(app.serve, "127.0.0.1", 0)
        async with rpc.xdial(f"http@127.0.0.1:{port}") as client:
            assert await client.call("Foo.Sum", Args(5, 6)) == 11
            assert await client.call("Foo.Sum", Args(1, 1)) == 2
        raw = await RawClient.connect(port)
        page = await raw.request(b"GET /debug/geerpc HTTP/1.1\r\nHost: t\r\n\r\n")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert b"Service Foo" in page.body
        assert b"<td>Sum</td><td>Args</td><td>int</td><td>2</td>" in page.body
        wrong = await raw.request(b"GET /_geeprc_ HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wrong.status == 405
        await raw.aclose()
        nursery.cancel_scope.cancel()


async def test_connect_timeout_bounds_the_http_handshake(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()  # accepts, never answers the CONNECT

    listeners = await nursery.start(trio.serve_tcp, silent, 0)
    port = listeners[0].socket.getsockname()[1]
    started = trio.current_time()
    with pytest.raises(rpc.RPCTimeout, match="connect timeout: expect within 10s"):
        async with rpc.dial_http("tcp", f"127.0.0.1:{port}"):  # the default: 10 s
            pass
    assert trio.current_time() - started == pytest.approx(10.0)


async def test_an_unreachable_server_is_an_rpc_error() -> None:
    from tests.helpers import refusing_port

    with refusing_port() as port, pytest.raises(rpc.RPCError, match="cannot connect"):
        async with rpc.dial("tcp", f"127.0.0.1:{port}"):
            pass
    with pytest.raises(rpc.RPCError, match="protocol@addr"):
        async with rpc.xdial("127.0.0.1:1"):
            pass


async def test_a_closed_client_fails_at_once(server: rpc.Server) -> None:
    async with memory_client(server) as client:
        await client.aclose()
        with pytest.raises(rpc.ShutdownError) as info:
            await client.call("Foo.Sum", Args(1, 2))
        assert info.value.sent is False


async def test_an_error_in_the_block_comes_out_as_itself(
    server: rpc.Server, nursery: trio.Nursery
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    nursery.start_soon(server.serve_stream, server_stream)
    with pytest.raises(KeyError):  # not an ExceptionGroup around it
        async with rpc.open_client(client_stream):
            raise KeyError("mine")


async def test_serve_unix_never_deletes_a_file_that_is_not_a_socket(
    server: rpc.Server, tmp_path: Path, nursery: trio.Nursery
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    with pytest.raises(OSError, match="in use"):
        await nursery.start(server.serve_unix, str(precious))
    assert precious.read_text() == "keep me"


async def test_graceful_shutdown_answers_what_it_read_then_closes(
    server: rpc.Server, foo: Foo
) -> None:
    """``serve(..., shutdown=event)``: once set, no new connections; a request already
    running finishes and its reply arrives; an idle connection closes; serve returns."""
    shutdown = trio.Event()
    returned = trio.Event()

    async def serve(task_status: trio.TaskStatus[int]) -> None:
        await server.serve("127.0.0.1", 0, shutdown=shutdown, grace=5.0, task_status=task_status)
        returned.set()

    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve)
        async with (
            rpc.dial("tcp", f"127.0.0.1:{port}") as busy,
            rpc.dial("tcp", f"127.0.0.1:{port}") as idle,
        ):
            assert await idle.call("Foo.Sum", Args(1, 2)) == 3
            replies: list[str] = []

            async def wait_call() -> None:
                replies.append(await busy.call("Foo.Wait", "slow"))

            nursery.start_soon(wait_call)
            await foo.entered.setdefault("slow", trio.Event()).wait()
            shutdown.set()
            await trio.testing.wait_all_tasks_blocked()
            with pytest.raises(OSError):  # the listener is closed: refused
                await trio.open_tcp_stream("127.0.0.1", port)
            with pytest.raises(rpc.ShutdownError):  # the idle connection was closed
                await idle.call("Foo.Sum", Args(1, 2))
            assert not returned.is_set()  # a request still runs
            foo.gates["slow"].set()
            await returned.wait()
            assert replies == ["slow"] and foo.cancelled == []


async def test_graceful_shutdown_cancels_what_outlives_the_grace(
    server: rpc.Server, foo: Foo, autojump_clock: trio.testing.MockClock
) -> None:
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        port = await nursery.start(
            partial(server.serve, "127.0.0.1", 0, shutdown=shutdown, grace=2.0)
        )
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            errors: list[Exception] = []
            failed = trio.Event()

            async def wait_call() -> None:
                try:
                    await client.call("Foo.Wait", "never")
                except rpc.RPCError as exc:
                    errors.append(exc)
                    failed.set()

            nursery.start_soon(wait_call)
            await foo.entered.setdefault("never", trio.Event()).wait()
            started = trio.current_time()
            shutdown.set()
            await failed.wait()
            assert trio.current_time() - started == pytest.approx(2.0, abs=0.2)
            assert foo.cancelled == ["never"] and isinstance(errors[0], rpc.ShutdownError)
