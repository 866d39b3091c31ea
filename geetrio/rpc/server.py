"""The GeeRPC server: services, connections, handlers under the client's deadline.

One task per connection reads the Option, then frames; each request runs as a task
in the connection's nursery (``async def`` methods directly, plain ``def`` through
``trio.to_thread.run_sync``), so replies come back in any order; the requests still
running when the client closes the connection are cancelled. Replies go to the
connection's writer task, which sends all replies ready in one ``send_all``, each
whole: they never interleave. A request naming an unknown service or method, arguments that do not
decode, or a method that raises is answered with an error header; the connection
goes on. Only a broken wire format (bad Option, a frame over ``max_frame_bytes``, a
header that is not one) ends it. When the client's ``HandleTimeout`` passes, the
handler is cancelled and the reply says so: nothing outlives its connection.

Limits (hostile clients): connections draw on the process's connection budget
(``geetrio._budget``; ``max_connections`` caps this server alone); a new connection
has ``option_timeout`` seconds to send its Option line, each frame ``frame_timeout``
seconds from its first byte to its last (a trickled frame drops the connection), and
an idle connection — no request in flight, none arriving — is closed after
``idle_timeout``. In flight per connection: at most ``MAX_IN_FLIGHT`` requests and
``max_pending_bytes`` of request bodies being handled plus replies waiting to be
written; past either the connection is not read until some are answered. Error texts
quoting the client's input are cut to ``MAX_ERROR_TEXT``; log lines quoting it are
escaped, cut and rate-limited.

Graceful shutdown (``serve(..., shutdown=event, grace=5.0)``): once ``shutdown`` is set
the listeners close, each connection stops reading new requests, the requests already
read run to their end and their replies are sent, then the connection closes; whatever
still runs ``grace`` seconds later is cancelled. A client sees its requests answered
or its connection closed (a request the server never read did not run).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import trio

from .._core.accept import accept_loop
from .._core.budget import Share, process_budget
from .._core.text import limited, shorten
from .codec import Codec, get_codec
from .errors import FrameError
from .http import DEBUG_PATH, RPC_PATH
from .protocol import (
    DEFAULT_MAX_FRAME_BYTES,
    MAGIC_NUMBER,
    FrameDecoder,
    Header,
    OptionReader,
    encode_message,
)
from .service import Method, Service
from .writer import FrameWriter

__all__ = ["Server"]

log = logging.getLogger("geetrio.rpc")

RECEIVE_SIZE = 65536
MAX_IN_FLIGHT = 1024  # requests one connection may have running; then it is not read
OPTION_TIMEOUT = 10.0  # seconds a new connection has to send its Option line
FRAME_TIMEOUT = 10.0  # seconds from a frame's first byte to its last
IDLE_TIMEOUT = 300.0  # seconds a connection with nothing in flight stays open
MAX_PENDING_BYTES = 8 * 1024 * 1024  # request bodies being handled + replies not written
MAX_ERROR_TEXT = 1024  # characters of an error text sent back (it may quote the input)
DEFAULT_GRACE = 5.0  # seconds in-flight requests get after a graceful shutdown began
WRITE_TIMEOUT = 10.0  # seconds one reply may take to be written before the peer is dropped
MESSAGE_OVERHEAD = 64  # bytes counted per request besides its body (header, bookkeeping)


class Server:
    """``server = rpc.Server(); server.register(Foo())``, then
    ``port = await nursery.start(server.serve, "127.0.0.1", 0)``."""

    def __init__(
        self,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_connections: int | None = None,
        option_timeout: float = OPTION_TIMEOUT,
        frame_timeout: float = FRAME_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        max_pending_bytes: int = MAX_PENDING_BYTES,
    ) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        if max_connections is not None and max_connections <= 0:
            raise ValueError("max_connections must be positive or None")
        if min(option_timeout, frame_timeout, idle_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if max_pending_bytes <= 0:
            raise ValueError("max_pending_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self.max_connections = max_connections
        self.option_timeout = option_timeout
        self.frame_timeout = frame_timeout
        self.idle_timeout = idle_timeout
        self.max_pending_bytes = max_pending_bytes
        self.services: dict[str, Service] = {}

    def register(self, obj: object, name: str | None = None) -> Service:
        """Offer ``obj``'s public one-argument methods as ``Name.Method``. Raises
        ``ValueError`` for a name already registered or an object without such methods."""
        service = Service(obj, name)
        if service.name in self.services:
            raise ValueError(f"rpc: service already defined: {service.name}")
        self.services[service.name] = service
        log.info("rpc server: registered %s (%s)", service.name, ", ".join(service.methods))
        return service

    # ------------------------------------------------------------------ serving

    async def serve(
        self,
        host: str | None,
        port: int,
        *,
        shutdown: trio.Event | None = None,
        grace: float = DEFAULT_GRACE,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve TCP until cancelled, or until ``shutdown`` is set and the connections
        drained (see the module); reports the bound port (``port=0`` picks one)."""
        _check_grace(grace)
        listeners = await trio.open_tcp_listeners(port, host=host or None)
        task_status.started(listeners[0].socket.getsockname()[1])
        await self._serve_listeners(listeners, shutdown, grace)

    async def serve_unix(
        self,
        path: str | os.PathLike[str],
        *,
        shutdown: trio.Event | None = None,
        grace: float = DEFAULT_GRACE,
        task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve on a unix socket at ``path`` like ``serve``. A stale socket there is
        replaced; any other file makes the bind fail (it is never deleted)."""
        _check_grace(grace)
        path = os.fspath(path)
        sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_STREAM)
        try:
            if await trio.Path(path).is_socket():  # a stale socket of an earlier run
                await trio.Path(path).unlink()
            await sock.bind(path)
            sock.listen()
        except BaseException:
            sock.close()
            raise
        listener = trio.SocketListener(sock)
        task_status.started(path)
        try:
            await self._serve_listeners([listener], shutdown, grace)
        finally:
            with trio.CancelScope(shield=True):
                await trio.Path(path).unlink(missing_ok=True)

    async def _serve_listeners(
        self, listeners: Sequence[trio.SocketListener], shutdown: trio.Event | None, grace: float
    ) -> None:
        open_connections: dict[_Connection, None] = {}  # in accept order
        share = process_budget().share(self.max_connections)
        try:
            await self._serve_with(listeners, shutdown, grace, share, open_connections)
        finally:
            share.close()

    async def _serve_with(
        self,
        listeners: Sequence[trio.SocketListener],
        shutdown: trio.Event | None,
        grace: float,
        share: Share,
        open_connections: dict[_Connection, None],
    ) -> None:
        async with trio.open_nursery() as connections:
            async with trio.open_nursery() as acceptors:
                for listener in listeners:
                    acceptors.start_soon(
                        self._accept, listener, connections, open_connections, share
                    )
                if shutdown is None:
                    return  # serves until cancelled
                await shutdown.wait()
                acceptors.cancel_scope.cancel(reason="graceful shutdown")
            log.info(
                "rpc server: shutting down: %d connections drain for up to %g s",
                len(open_connections),
                grace,
            )
            for connection in list(open_connections):
                connection.drain()
            connections.cancel_scope.deadline = trio.current_time() + grace

    async def _accept(
        self,
        listener: trio.SocketListener,
        nursery: trio.Nursery,
        tracked: dict[_Connection, None],
        share: Share,
    ) -> None:
        """The shared accept loop (``geetrio._core.accept``) on this server's share;
        when full, the oldest idle connection makes room for a waiting client."""

        def evict() -> bool:
            for connection in tracked:  # the oldest first
                if connection.idle:
                    limited.info(log, "rpc server: full; closing the oldest idle connection")
                    connection.scope.cancel(reason="evicted for a new connection")
                    return True
            return False

        def start(stream: trio.abc.Stream) -> None:
            connection = _Connection(self, stream)
            tracked[connection] = None  # now: a shutdown that comes next must see it
            nursery.start_soon(self._serve_connection, connection, tracked, share)

        await accept_loop(
            listener,
            share,
            start,
            evict=evict,
            open_count=lambda: len(tracked),
            log=log,
            prefix="rpc server: ",
        )

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one connection on any trio stream until it ends; closes the stream."""
        await self._serve_connection(_Connection(self, stream), None)

    async def _serve_connection(
        self,
        connection: _Connection,
        tracked: dict[_Connection, None] | None,
        share: Share | None = None,
    ) -> None:
        stream = connection.stream
        try:
            await connection.run()
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            log.debug("rpc server: connection lost: %s", exc)
        except FrameError as exc:
            limited.warning(log, "rpc server: %s; closing the connection", exc)
        except Exception:  # a bug of ours: this connection ends, the server goes on
            log.exception("rpc server: internal error on a connection")
        finally:
            if tracked is not None:
                tracked.pop(connection, None)
            if share is not None:
                share.release()
            await trio.aclose_forcefully(stream)

    def mount(self, app: Any, path: str = RPC_PATH, debug_path: str = DEBUG_PATH) -> None:
        """Serve RPC over HTTP CONNECT at ``path`` and the debug page at ``debug_path``
        on a ``geetrio.web`` Engine."""
        from .http import mount  # the web layer, imported only when mounting

        mount(self, app, path, debug_path)

    def find(self, service_method: str) -> Method | str:
        """The method ``Service.Method`` names, or the error text saying why not."""
        service_name, dot, method_name = service_method.rpartition(".")
        if not dot or not service_name or not method_name:
            return f"rpc server: service/method request ill-formed: {shorten(service_method)}"
        service = self.services.get(service_name)
        if service is None:
            return f"rpc server: can't find service {shorten(service_name)}"
        method = service.methods.get(method_name)
        if method is None:
            return f"rpc server: can't find method {shorten(method_name)}"
        return method


def _check_grace(grace: float) -> None:
    if grace < 0:
        raise ValueError("grace must not be negative")


class _Connection:
    def __init__(self, server: Server, stream: trio.abc.Stream) -> None:
        self.server = server
        self.stream = stream
        self.handle_timeout = 0.0
        self.codec: Codec | None = None
        self.scope = trio.CancelScope()  # cancelled when a reply cannot be written
        self.slots = trio.Semaphore(MAX_IN_FLIGHT)
        self.writer = FrameWriter(stream, write_timeout=WRITE_TIMEOUT, on_broken=self._broken)
        self.draining = False  # a graceful shutdown: read no more requests
        self._receiving: trio.CancelScope | None = None  # around the reader's wait
        self.pending_bytes = 0  # request bodies being handled + replies waiting for room
        self._frame_deadline = math.inf  # set when a message's first byte arrived
        self._room = trio.lowlevel.ParkingLot()  # the reader waits here when over budget

    @property
    def idle(self) -> bool:
        """Nothing in flight and no message arriving (or no Option yet): a connection
        the server may close to make room for a new one."""
        if self.codec is None:
            return True
        return (
            self.pending_bytes == 0
            and self._receiving is not None
            and self._frame_deadline == math.inf
        )

    def drain(self) -> None:
        """Read no more requests; those read finish and are answered, then it closes."""
        self.draining = True
        if self.codec is None:  # no Option yet: nothing is in flight
            self.scope.cancel(reason="graceful shutdown")
        elif self._receiving is not None:
            self._receiving.cancel(reason="graceful shutdown")

    def _broken(self, reason: str) -> None:
        log.debug("rpc server: %s", reason)
        self.scope.cancel(reason=reason)

    async def run(self) -> None:
        with self.scope:
            rest = await self._read_option()
            if rest is None:
                return
            async with trio.open_nursery() as connection:
                connection.start_soon(self.writer.run)
                await self._serve_requests(rest)
                if self.draining:  # the replies of the requests that ran go out first
                    await self.writer.flush()
                connection.cancel_scope.cancel()  # else the writer's work is moot now

    async def _serve_requests(self, rest: bytes) -> None:
        """Read requests and run each as a task, until the client closes or breaks
        the wire format; then the requests still running are cancelled (nobody will
        read their replies: a net/rpc client never half-closes)."""
        self._decoder = FrameDecoder(self.server.max_frame_bytes)
        self._header: Header | None = None
        self._frame_deadline = math.inf  # set when a message's first byte arrived
        async with trio.open_nursery() as handlers:
            self._handlers = handlers
            await self._read(rest)

    async def _read(self, data: bytes | bytearray) -> None:
        """The reader. Each request read becomes a task — except the last one of a
        read: for it this task hands the reading over to a new task and runs the request
        itself, at once. Same concurrency, but the reply to a lone request goes out in
        the scheduler batch that read it, not one later (a third of a round trip)."""
        codec = self.codec
        assert codec is not None
        server = self.server
        decoder, handlers = self._decoder, self._handlers
        try:
            while True:
                inline: tuple[Header, bytes] | None = None
                for frame in decoder.feed(data) if data else ():
                    header = self._header
                    if header is None:
                        self._header = codec.decode_header(frame)
                        continue
                    self._header = None
                    try:
                        self.slots.acquire_nowait()
                    except trio.WouldBlock:  # backpressure: stop reading when full
                        await self.slots.acquire()
                    await self._hold(len(frame) + MESSAGE_OVERHEAD)
                    if inline is not None:
                        self._dispatch(handlers, *inline)
                    inline = (header, frame)
                if inline is not None:
                    handlers.start_soon(self._read, b"")  # the next reader
                    await self._run(*inline)
                    return
                if self.draining:
                    return  # the requests read so far run on
                now = trio.current_time()
                if decoder.pending or self._header is not None:  # inside a message
                    if self._frame_deadline == math.inf:
                        self._frame_deadline = now + server.frame_timeout
                    deadline = self._frame_deadline
                else:
                    self._frame_deadline = math.inf
                    # idle: nothing in flight and nothing arriving
                    idle = self.pending_bytes == 0
                    deadline = now + server.idle_timeout if idle else math.inf
                with trio.CancelScope(deadline=deadline) as self._receiving:
                    try:
                        data = await self.stream.receive_some(RECEIVE_SIZE)
                    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                        log.debug("rpc server: connection lost: %s", exc)
                        data = b""  # a reset is an end like any other
                receiving, self._receiving = self._receiving, None
                if self.draining:
                    return
                if receiving.cancelled_caught:
                    what = "a frame" if deadline == self._frame_deadline else "a request"
                    limited.info(log, "rpc server: no %s in time; closing the connection", what)
                    break
                if not data:
                    break
                if self._frame_deadline != math.inf and not (
                    decoder.pending or self._header is not None
                ):
                    self._frame_deadline = math.inf
        except FrameError as exc:  # the stream cannot be trusted: drop it all
            limited.warning(log, "rpc server: %s; closing the connection", exc)
        else:
            if decoder.pending or self._header is not None:
                log.info("rpc server: connection closed inside a frame")
        handlers.cancel_scope.cancel()

    async def _hold(self, size: int) -> None:
        """Count ``size`` bytes in flight, first waiting (not reading) while the
        connection holds ``max_pending_bytes`` already."""
        limit = self.server.max_pending_bytes
        while self.pending_bytes and self.pending_bytes + size > limit:
            await self._room.park()
        self.pending_bytes += size

    def _free(self, size: int) -> None:
        self.pending_bytes -= size
        if self._room:
            self._room.unpark_all()
        receiving = self._receiving
        if not self.pending_bytes and receiving is not None and receiving.deadline == math.inf:
            # the last call answered while the reader waits: now it waits idle
            receiving.deadline = trio.current_time() + self.server.idle_timeout

    async def _read_option(self) -> bytes | None:
        reader = OptionReader()
        with trio.move_on_after(self.server.option_timeout):
            while True:
                data = await self.stream.receive_some(RECEIVE_SIZE)
                if not data:
                    return None
                got = reader.feed(data)
                if got is not None:
                    break
        if got is None:
            limited.info(log, "rpc server: no Option line within %s s", self.server.option_timeout)
            return None
        option, rest = got
        if option.magic_number != MAGIC_NUMBER:
            limited.warning(log, "rpc server: invalid magic number %#x", option.magic_number)
            return None
        codec = get_codec(option.codec_type)
        if codec is None:
            limited.warning(log, "rpc server: invalid codec type %s", shorten(option.codec_type))
            return None
        self.codec = codec
        self.handle_timeout = option.handle_timeout
        return rest

    def _dispatch(self, handlers: trio.Nursery, header: Header, body: bytes) -> None:
        handlers.start_soon(self._run, header, body)

    async def _run(self, header: Header, body: bytes) -> None:
        size = len(body) + MESSAGE_OVERHEAD  # as counted by the reader
        found = self.server.find(header.service_method)
        if isinstance(found, str):  # the body was read whole already: the stream stays in step
            await self._reply(header, None, found, size)
        else:
            await self._handle(header, found, body, size)

    async def _handle(self, header: Header, method: Method, body: bytes, size: int) -> None:
        codec = self.codec
        assert codec is not None
        try:
            arg = codec.decode_body(body, method.arg_type, "argument")
        except ValueError as exc:
            await self._reply(
                header, None, f"rpc server: bad argument for {header.service_method}: {exc}", size
            )
            return
        method.calls += 1
        if not self.handle_timeout:
            reply, error = await _run(method, arg, header)
        else:
            with trio.move_on_after(self.handle_timeout) as scope:
                reply, error = await _run(method, arg, header)
            if scope.cancelled_caught:
                timeout = self.handle_timeout
                reply, error = (
                    None,
                    f"rpc server: request handle timeout: expect within {timeout:g}s",
                )
        await self._reply(header, reply, error, size)

    async def _reply(self, header: Header, reply: Any, error: str, size: int) -> None:
        """Queue one reply for the writer, then free the request's slot and its bytes
        (``size``, counted when it was read)."""
        try:
            await self._write_reply(header, reply, error)
        finally:
            self.slots.release()
            self._free(size)

    async def _write_reply(self, header: Header, reply: Any, error: str) -> None:
        codec = self.codec
        assert codec is not None
        if not error:
            try:
                body = codec.encode_body(reply)
            except ValueError as exc:
                error, body = f"rpc server: cannot encode the reply: {exc}", b"null"
        else:
            body = b"null"
            if len(error) > MAX_ERROR_TEXT:  # it may echo the client's input
                error = shorten(error, MAX_ERROR_TEXT)
        service_method = header.service_method  # the client's, unless it named no method
        if len(service_method) > MAX_ERROR_TEXT:  # clients match replies by Seq alone
            service_method = shorten(service_method, MAX_ERROR_TEXT)
        message = encode_message(
            codec.encode_header(Header(service_method, header.seq, error)), body
        )
        if not self.writer.write_now(message):
            # waits while the client reads slowly; counted meanwhile, so the reader
            # stops taking requests whose replies would pile up here
            self.pending_bytes += len(message)
            try:
                await self.writer.queue_when_room(message)
            finally:
                self._free(len(message))


async def _run(method: Method, arg: Any, header: Header) -> tuple[Any, str]:
    """(reply, "") or (None, the error text)."""
    try:
        if method.is_async:
            return await method.function(arg), ""
        # a thread cannot be interrupted: at a deadline it is left to finish alone
        return await trio.to_thread.run_sync(method.function, arg, abandon_on_cancel=True), ""
    except Exception as exc:
        limited.info(log, "rpc server: %s raised %s", header.service_method, shorten(repr(exc)))
        return None, str(exc) or type(exc).__name__
