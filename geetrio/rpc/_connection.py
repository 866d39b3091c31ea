"""One GeeRPC server connection: the Option line, then frames; each request a task in
the connection's nursery, replies through its writer task (see ``server`` for the whole
picture). A ``Connection`` knows its server only through ``Host`` — the limits and
``find`` — so this module does not import the server.

Per connection: the Option line within ``option_timeout``; each frame whole within
``frame_timeout`` of its first byte; closed after ``idle_timeout`` with nothing in
flight; at most ``MAX_IN_FLIGHT`` requests and ``max_pending_bytes`` of request bodies
being handled plus replies waiting for room, then it is not read. Error texts sent back
are cut to ``MAX_ERROR_TEXT`` (they may quote the input).
"""

from __future__ import annotations

import enum
import logging
import math
from functools import partial
from typing import Any, Protocol

import trio

from .. import tracing
from .._core.text import limited, shorten
from .._core.tlsstream import TLSStream
from ._codec import Codec, StreamCodec, get_codec
from ._errors import FrameError, RemoteError
from ._framing import Framing, framing_of
from ._gob import NET_RPC
from ._intercept import CallInfo, Interceptor, Refused
from ._jsonrpc import JSONRPC, looks_like_jsonrpc
from ._service import Method
from ._tracing import traced_call
from ._writer import FrameWriter
from .protocol import MAGIC_NUMBER, Header, OptionReader

__all__ = ["Connection", "Host", "ReadState"]

log = logging.getLogger("geetrio.rpc")

RECEIVE_SIZE = 65536
MAX_IN_FLIGHT = 1024  # requests one connection may have running; then it is not read
MAX_ERROR_TEXT = 1024  # characters of an error text sent back (it may quote the input)
WRITE_TIMEOUT = 10.0  # seconds one reply may take to be written before the peer is dropped
MESSAGE_OVERHEAD = 64  # bytes counted per request besides its body (header, bookkeeping)


class Host(Protocol):
    """What a connection needs of its server."""

    max_frame_bytes: int
    option_timeout: float
    frame_timeout: float
    idle_timeout: float
    max_pending_bytes: int
    interceptor: Interceptor | None  # the server's chain, if it has one

    def find(self, service_method: str) -> Method | str: ...


class ReadState(enum.Enum):
    """What a connection's reader is doing; one place sets it (``_read``), except that
    the last call answered turns ``BUSY`` into ``IDLE`` (``_free``)."""

    OPTION = "option"  # waiting for the Option line, within option_timeout
    IDLE = "idle"  # waiting between messages, nothing in flight: idle_timeout
    BUSY = "busy"  # waiting between messages while calls run: no deadline
    FRAME = "frame"  # waiting inside a message: frame_timeout from its first byte
    DISPATCHING = "dispatching"  # not waiting on the socket: handing requests out


OPTION, IDLE, BUSY, FRAME, DISPATCHING = ReadState


class Connection:
    def __init__(self, server: Host, stream: trio.abc.Stream) -> None:
        self.server = server
        self.stream = stream
        self.handle_timeout = 0.0
        self.codec: Codec | StreamCodec | None = None
        self.framing: Framing  # set with the codec, once the Option is read
        self.scope = trio.CancelScope()  # cancelled when a reply cannot be written
        self.slots = trio.Semaphore(MAX_IN_FLIGHT)
        self.writer = FrameWriter(stream, write_timeout=WRITE_TIMEOUT, on_broken=self._broken)
        self.draining = False  # a graceful shutdown: read no more requests
        self.state = OPTION
        self._receiving: trio.CancelScope | None = None  # around the reader's wait
        self.pending_bytes = 0  # request bodies being handled + replies waiting for room
        self._frame_deadline = math.inf  # set when a message's first byte arrived
        self._room = trio.lowlevel.ParkingLot()  # the reader waits here when over budget
        # Over mutual TLS: the client's certificate, for interceptors (the handshake is
        # done: it does not change).
        certificate = stream.getpeercert() if isinstance(stream, TLSStream) else None
        self.peer_certificate: dict[str, Any] | None = certificate or None

    @property
    def idle(self) -> bool:
        """Nothing in flight and no message arriving (or no Option yet): a connection
        the server may close to make room for a new one."""
        return self.state is IDLE or self.state is OPTION

    def drain(self) -> None:
        """Read no more requests; those read finish and are answered, then it closes."""
        self.draining = True
        if self.state is OPTION:  # nothing is in flight
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
        self._frame_deadline = math.inf  # set when a message's first byte arrived
        async with trio.open_nursery() as handlers:
            self._handlers = handlers
            await self._read(rest)

    async def _read(self, data: bytes | bytearray) -> None:
        """The reader. Each request read becomes a task — except the last one of a
        read: for it this task hands the reading over to a new task and runs the request
        itself, at once. Same concurrency, but the reply to a lone request goes out in
        the scheduler batch that read it, not one later (a third of a round trip)."""
        server = self.server
        framing, handlers = self.framing, self._handlers
        try:
            while True:
                inline: tuple[Header, Any, int] | None = None
                for header, body, size in framing.feed(data) if data else ():
                    try:
                        self.slots.acquire_nowait()
                    except trio.WouldBlock:  # backpressure: stop reading when full
                        await self.slots.acquire()
                    await self._hold(size + MESSAGE_OVERHEAD)
                    if inline is not None:
                        self._dispatch(handlers, *inline)
                    inline = (header, body, size)
                if inline is not None:
                    handlers.start_soon(self._read, b"")  # the next reader
                    await self._answer(*inline)
                    return
                if self.draining:
                    return  # the requests read so far run on
                now = trio.current_time()
                if framing.pending:  # inside a message
                    if self._frame_deadline == math.inf:
                        self._frame_deadline = now + server.frame_timeout
                    self.state, deadline = FRAME, self._frame_deadline
                else:
                    self._frame_deadline = math.inf
                    if self.pending_bytes == 0:
                        self.state, deadline = IDLE, now + server.idle_timeout
                    else:
                        self.state, deadline = BUSY, math.inf
                with trio.CancelScope(deadline=deadline) as self._receiving:
                    try:
                        data = await self.stream.receive_some(RECEIVE_SIZE)
                    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                        log.debug("rpc server: connection lost: %s", exc)
                        data = b""  # a reset is an end like any other
                receiving, self._receiving = self._receiving, None
                waited, self.state = self.state, DISPATCHING
                if self.draining:
                    return
                if receiving.cancelled_caught:
                    what = "a frame" if waited is FRAME else "a request"
                    limited.info(log, "rpc server: no %s in time; closing the connection", what)
                    break
                if not data:
                    break
                if self._frame_deadline != math.inf and not framing.pending:
                    self._frame_deadline = math.inf
        except FrameError as exc:  # the stream cannot be trusted: drop it all
            limited.warning(log, "rpc server: %s; closing the connection", exc)
        else:
            if framing.pending:
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
        if not self.pending_bytes and self.state is BUSY and receiving is not None:
            # the last call answered while the reader waits: now it waits idle
            self.state = IDLE
            receiving.deadline = trio.current_time() + self.server.idle_timeout

    async def _read_option(self) -> bytes | None:
        """The Option line; or, told by the first bytes, Go's ``net/rpc`` (a gob stream
        from the first byte) or ``net/rpc/jsonrpc`` (``{"method"``), whose clients send
        no Option. The bytes after it, or None when the connection ends here."""
        reader = OptionReader()
        got = None  # stays None when the time runs out
        with trio.move_on_after(self.server.option_timeout):
            while True:
                data = await self.stream.receive_some(RECEIVE_SIZE)
                if not data:
                    return None
                if reader.empty and looks_like_gob(data):
                    return self._start(NET_RPC, 0.0, bytes(data))  # Go's net/rpc: no Option
                if reader.empty and looks_like_jsonrpc(data):
                    return self._start(JSONRPC, 0.0, bytes(data))  # net/rpc/jsonrpc
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
        return self._start(option.codec_type, option.handle_timeout, rest)

    def _start(self, codec_type: str, handle_timeout: float, rest: bytes) -> bytes | None:
        codec = get_codec(codec_type)
        if codec is None:
            limited.warning(log, "rpc server: invalid codec type %s", shorten(codec_type))
            return None
        self.codec = codec
        self.framing = framing_of(codec, self.server.max_frame_bytes)
        self.handle_timeout = handle_timeout
        self.state = DISPATCHING
        return rest

    def _dispatch(self, handlers: trio.Nursery, header: Header, body: Any, size: int) -> None:
        handlers.start_soon(self._answer, header, body, size)

    async def _answer(self, header: Header, body: Any, size: int) -> None:
        size += MESSAGE_OVERHEAD  # as counted by the reader
        found = self.server.find(header.service_method)
        if isinstance(found, str):  # the body was read whole already: the stream stays in step
            await self._reply(header, None, found, size)
        else:
            await self._handle(header, found, body, size)

    async def _handle(self, header: Header, method: Method, body: Any, size: int) -> None:
        try:
            arg = self.framing.decode_body(body, method.arg_type, "argument")
        except ValueError as exc:
            await self._reply(
                header, None, f"rpc server: bad argument for {header.service_method}: {exc}", size
            )
            return
        method.calls += 1
        call = _call_method if self.server.interceptor is None else self._intercepted
        tracer = tracing.tracer()
        if tracer is not None:
            call = partial(traced_call, tracer, call)
        if not self.handle_timeout:
            reply, error = await call(method, arg, header)
        else:
            with trio.move_on_after(self.handle_timeout) as scope:
                reply, error = await call(method, arg, header)
            if scope.cancelled_caught:
                timeout = self.handle_timeout
                reply, error = (
                    None,
                    f"rpc server: request handle timeout: expect within {timeout:g}s",
                )
        await self._reply(header, reply, error, size)

    async def _intercepted(self, method: Method, arg: Any, header: Header) -> tuple[Any, str]:
        """The call through the server's interceptors: (reply, "") or (None, error)."""
        interceptor = self.server.interceptor
        assert interceptor is not None
        info = CallInfo(header.service_method, header.metadata or {}, self.peer_certificate)
        try:
            return await interceptor(info, partial(_invoke, method, arg, header)), ""
        except Refused as exc:
            return None, f"rpc server: refused {header.service_method}: {exc}"
        except RemoteError as exc:
            return None, str(exc)
        except Exception as exc:  # an interceptor's own failure: this call fails, not the server
            limited.warning(log, "rpc server: an interceptor raised %s", shorten(repr(exc)))
            return None, f"rpc server: interceptor failed: {exc}"

    async def _reply(self, header: Header, reply: Any, error: str, size: int) -> None:
        """Queue one reply for the writer, then free the request's slot and its bytes
        (``size``, counted when it was read)."""
        try:
            await self._write_reply(header, reply, error)
        finally:
            self.slots.release()
            self._free(size)

    async def _write_reply(self, header: Header, reply: Any, error: str) -> None:
        framing = self.framing
        if not framing.droppable:  # built and queued with no checkpoint between: in order
            await self.writer.room()
        if len(error) > MAX_ERROR_TEXT:  # it may echo the client's input
            error = shorten(error, MAX_ERROR_TEXT)
        service_method = header.service_method  # the client's, unless it named no method
        if len(service_method) > MAX_ERROR_TEXT:  # clients match replies by Seq alone
            service_method = shorten(service_method, MAX_ERROR_TEXT)
        try:
            message = framing.message(Header(service_method, header.seq, error), reply)
        except ValueError as exc:  # the reply cannot be encoded (or is over the limit)
            error = f"rpc server: cannot encode the reply: {exc}"
            message = framing.message(Header(service_method, header.seq, error), None)
        if not self.writer.write_now(message):
            # waits while the client reads slowly; counted meanwhile, so the reader
            # stops taking requests whose replies would pile up here
            self.pending_bytes += len(message)
            try:
                await self.writer.queue_when_room(message)
            finally:
                self._free(len(message))


def looks_like_gob(data: bytes | bytearray) -> bool:
    """Whether a connection's first bytes start a gob stream, as Go's net/rpc client
    sends one: a message length, then a type definition's id (a negative number past
    the predefined ids: a byte count, 0xf8 or more). An Option line starts with ``{``."""
    return len(data) >= 2 and data[0] not in (0, ord("{")) and data[1] >= 0xF8


async def _call_method(method: Method, arg: Any, header: Header) -> tuple[Any, str]:
    """(reply, "") or (None, the error text)."""
    try:
        if method.is_async:
            return await method.function(arg), ""
        # a thread cannot be interrupted: at a deadline it is left to finish alone
        return await trio.to_thread.run_sync(method.function, arg, abandon_on_cancel=True), ""
    except Exception as exc:
        return None, _failure(header, exc)


async def _invoke(method: Method, arg: Any, header: Header) -> Any:
    """``_call_method`` as interceptors' ``proceed``: the reply, or ``RemoteError``."""
    try:
        if method.is_async:
            return await method.function(arg)
        return await trio.to_thread.run_sync(method.function, arg, abandon_on_cancel=True)
    except Exception as exc:
        raise RemoteError(_failure(header, exc)) from None


def _failure(header: Header, exc: Exception) -> str:
    """Log a method's failure (rate-limited); the error text its caller gets."""
    limited.info(log, "rpc server: %s raised %s", header.service_method, shorten(repr(exc)))
    return str(exc) or type(exc).__name__
