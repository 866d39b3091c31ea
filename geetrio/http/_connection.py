"""One HTTP/1.1 server connection: parse with the sans-IO ``RequestParser``, run the
handler inline, send each response in one ``send_all`` (the answers to pipelined
requests that arrived together in one batch), 100-continue, timeouts as plain deadlines
the server's sweeper enforces (see ``server``), lingering close after an error.

A ``Connection`` knows its server only through ``Host`` (its config, handler,
``stream_body`` and whether it drains), so this module does not import the server.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable
from typing import Protocol

import trio

from .._core.streams import peer_address
from .._core.tlsstream import TLSStream
from ._config import ServerConfig
from ._errors import ProtocolError
from ._message import Request, Response, Transport, render_head
from ._parser import BODY, HEAD, IDLE, UPGRADED, RequestParser
from ._stats import ServerStats
from ._streamed import send_streamed
from ._streams import PrefixedStream
from ._types import Handler

__all__ = ["Connection", "End", "Host", "Phase", "remote_addr"]

log = logging.getLogger("geetrio.http")

RECEIVE_SIZE = 65536
# A streamed request body is read in larger pieces: a 100 MB upload goes 1.5x faster
# with 256 KiB reads than with 64 KiB ones (fewer parser calls and task switches).
BODY_RECEIVE_SIZE = 262144
# After an error response, keep reading (and dropping) what the client still sends
# for this long before closing, so the kernel does not answer it with a reset that
# destroys our response in flight ("lingering close").
LINGER_SECONDS = 1.0
LINGER_BYTES = 1 << 20
# Answers to pipelined requests already parsed are batched up to this many bytes
# into one send; the batch goes out before any wait on the socket.
OUT_BATCH_BYTES = 65536
_NO_BODY_STATUSES = frozenset({204, 304})
_INTERNAL_ERROR = Response(
    500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error\n"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Phase(enum.Enum):
    """What a connection is doing. While it waits on the socket (``WAITING``,
    ``READING``, ``SENDING``) its ``deadline`` is in force, else ``deadline`` is
    infinite: the server's sweeper ends it when ``deadline`` passes."""

    WAITING = "waiting"  # for the next request: eviction and graceful shutdown end it
    READING = "reading"  # the rest of a request (its head or its body)
    HANDLING = "handling"  # the handler runs: no deadline of ours
    SENDING = "sending"  # a send, within send_timeout
    DETACHED = "detached"  # the handler took the stream


class End(enum.Enum):
    """Why the server ended a connection (``Connection.end``)."""

    TIMEOUT = "connection timeout"
    EVICTED = "evicted for a new connection"
    SHUTDOWN = "graceful shutdown"


WAITING, READING, HANDLING, SENDING, DETACHED = Phase


class Host(Protocol):
    """What a connection needs of its server."""

    config: ServerConfig
    handler: Handler
    stream_body: Callable[[Request], bool] | None
    draining: bool
    stats: ServerStats


remote_addr = peer_address  # ``host:port`` of the client ("" when not over a socket)


class Connection(Transport):
    def __init__(self, server: Host, stream: trio.abc.Stream) -> None:
        self.server = server
        self.stream = stream
        self.parser = RequestParser(server.config, stream_body=server.stream_body)
        self.timeout = trio.CancelScope()
        self.handler = server.handler
        self.send_timeout = server.config.send_timeout
        self.phase = WAITING
        self.deadline = math.inf  # in force while waiting on the socket, else infinite
        self.ended: End | None = None  # set by ``end()``
        self.remote_addr = remote_addr(stream)
        if isinstance(stream, TLSStream):
            self.peer_certificate = stream.getpeercert() or None
        self.current: Request | None = None
        self.client_gone = False  # seen by _watch while a response streamed out
        self.out: list[bytes] = []  # answers to pipelined requests, not sent yet
        self.out_bytes = 0
        # Of the request being read: whether 100 Continue went out, and its deadlines.
        self.continue_sent = False
        self.body_deadline = math.inf  # body_timeout, from the first wait for its body
        self.stall_deadline = math.inf  # header_timeout, from when its bytes stalled

    def end(self, why: End) -> None:
        """The server ends this connection (cancels its scope); once."""
        if self.ended is None:
            self.ended = why
            self.timeout.cancel(reason=why.value)

    async def run(self) -> None:
        config = self.server.config
        parser = self.parser
        stream = self.stream
        now = trio.lowlevel.current_clock().current_time  # one lookup, not one per call
        idle_timeout = config.header_timeout  # a new connection must start promptly
        head_deadline = math.inf  # set when we first wait for an incomplete head
        with self.timeout:
            while True:
                request = parser.next_request()
                if request is not None:
                    head_deadline = self.body_deadline = self.stall_deadline = math.inf
                    self.continue_sent = False
                    if not await self.respond(request, now):
                        return
                    idle_timeout = config.keep_alive_timeout
                    continue
                if parser.error is not None:  # malformed bytes after the requests answered
                    log.info("bad request from %s: %s", self.remote_addr, parser.error)
                    await self.send_error(parser.error.status, parser.error.reason)
                    return
                state = parser.state
                if state is IDLE:
                    if self.server.draining:
                        return
                    self.phase = WAITING
                    self.deadline = now() + idle_timeout
                elif state is HEAD:
                    if head_deadline == math.inf:
                        head_deadline = now() + config.header_timeout
                    self.phase = READING
                    self.deadline = head_deadline
                elif state is BODY:
                    await self.before_body_bytes(now())
                elif state is not UPGRADED:  # DONE: the parser takes no more bytes
                    return
                else:  # an upgrade the handler did not take
                    try:
                        if not parser.resume():
                            return  # after a CONNECT (or an upgrade with a body): no way back
                    except ProtocolError as exc:
                        log.info("bad request from %s: %s", self.remote_addr, exc)
                        await self.send_error(exc.status, exc.reason)
                        return
                    continue
                data = await stream.receive_some(RECEIVE_SIZE)
                self.phase = READING
                self.deadline = math.inf
                if self.ended is not None or not data:
                    break  # timed out or shut down as data arrived, or the client closed
                try:
                    parser.feed(data)
                except ProtocolError as exc:
                    log.info("bad request from %s: %s", self.remote_addr, exc)
                    await self.send_error(exc.status, exc.reason)
                    return
        if self.ended is End.TIMEOUT and parser.in_progress and not self.server.draining:
            log.info("request from %s timed out", self.remote_addr)
            await self.send_error(408, "request timeout")

    async def respond(self, request: Request, now: Callable[[], float]) -> bool:
        """Run the handler and send its response; False when the connection must end."""
        request.remote_addr = self.remote_addr
        request.transport = self
        self.current = request
        self.phase = HANDLING
        if request.upgrade and self.out:
            await self.send(b"")  # answers before it go out before it may take the stream
        body_stream = request.body_stream
        if body_stream is not None:
            body_stream.attach(self.receive_body)
        try:
            response = await self.handler(request)
            if response is None and self.phase is not DETACHED:
                raise RuntimeError("handler returned None without taking the connection")
        except ProtocolError as exc:  # a streamed body that was malformed or cut off
            log.info("bad request body from %s: %s", self.remote_addr, exc)
            await self.send_error(exc.status, exc.reason)
            return False
        except Exception:
            log.exception("unhandled error in handler for %s %s", request.method, request.target)
            response = _INTERNAL_ERROR
        finally:
            self.current = None
        if self.phase is DETACHED:
            return False
        assert response is not None
        keep_alive = request.keep_alive and not self.server.draining
        if body_stream is not None and not body_stream.complete:
            keep_alive = False  # the rest of the body is unread: no next request to find
        status = response.status
        if response.stream is None and status not in _NO_BODY_STATUSES:
            # The common case, kept flat: head and body in one send.
            try:
                head = render_head(status, response.headers, len(response.body), keep_alive)
            except ValueError:  # a header the handler set would split the response
                log.exception("invalid response for %s %s", request.method, request.target)
                return await self.send_response(request, _INTERNAL_ERROR, keep_alive)
            data = head if request.method == "HEAD" else head + response.body
            out = self.out
            if keep_alive and self.parser.has_request() and self.out_bytes < OUT_BATCH_BYTES:
                # Pipelined requests are waiting: answer them all in one send.
                out.append(data)
                self.out_bytes += len(data)
                return True
            if out:
                out.append(data)
                data = b"".join(out)
                out.clear()
                self.out_bytes = 0
            self.phase = SENDING
            self.deadline = now() + self.send_timeout
            await self.stream.send_all(data)
            self.deadline = math.inf
            return keep_alive
        return await self.send_response(request, response, keep_alive)

    async def send_response(self, request: Request, response: Response, keep_alive: bool) -> bool:
        """A response without a body (204, 304) or a streamed one (``_streamed``)."""
        if response.stream is None:
            await self.send(render_head(response.status, response.headers, None, keep_alive))
            return keep_alive
        return await send_streamed(self, request, response, keep_alive)

    async def receive_body(self) -> None:
        """More of a streamed request body (``BodyStream`` calls this): one receive,
        fed to the parser, within the deadlines of ``before_body_bytes`` (the sweeper
        cancels the connection, which answers 408)."""
        await self.before_body_bytes(trio.current_time())
        try:
            data = await self.stream.receive_some(BODY_RECEIVE_SIZE)
        finally:
            self.phase = HANDLING
            self.deadline = math.inf
        if not data:
            raise ProtocolError(400, "the client closed the connection inside the body")
        self.parser.feed(data)

    async def before_body_bytes(self, now: float) -> None:
        """Before waiting for body bytes, whole or streamed: ``100 Continue`` once when
        the request asked for it, then the deadline — ``header_timeout`` per pause,
        ``body_timeout`` in all, and ``header_timeout`` from when a chunk-size or
        trailer line stalled (it trickles in: a head of sorts)."""
        parser = self.parser
        if parser.expects_continue and not self.continue_sent:
            self.continue_sent = True
            await self.send(_CONTINUE)
        config = self.server.config
        if self.body_deadline == math.inf:
            self.body_deadline = now + config.body_timeout
        if not parser.stalled:
            self.stall_deadline = math.inf
        elif self.stall_deadline == math.inf:
            self.stall_deadline = now + config.header_timeout
        self.phase = READING
        self.deadline = min(now + config.header_timeout, self.body_deadline, self.stall_deadline)

    async def send(self, data: bytes) -> None:
        """``send_all`` bounded by ``send_timeout`` (through the sweeper), after the
        answers batched for pipelined requests."""
        if self.out:
            data = b"".join((*self.out, data))
            self.out.clear()
            self.out_bytes = 0
        phase = self.phase
        self.phase = SENDING
        self.deadline = trio.current_time() + self.send_timeout
        try:
            await self.stream.send_all(data)
        finally:
            self.phase = phase
            self.deadline = math.inf

    async def send_error(self, status: int, reason: str) -> None:
        """Answer a request we will not process, then close without a reset."""
        self.server.stats.refuse(status)
        body = reason.encode() + b"\n"
        head = render_head(
            status, [("content-type", "text/plain; charset=utf-8")], len(body), False
        )
        batched = b"".join(self.out)
        self.out.clear()
        with trio.move_on_after(LINGER_SECONDS) as scope:
            scope.shield = True  # also runs while a graceful shutdown cancels us
            await self.stream.send_all(batched + head + body)
            if isinstance(self.stream, trio.abc.HalfCloseableStream):
                await self.stream.send_eof()
            discarded = 0
            while discarded < LINGER_BYTES:
                data = await self.stream.receive_some(RECEIVE_SIZE)
                if not data:
                    break
                discarded += len(data)

    # Transport
    def detach(self, *, replay_head: bool = True) -> trio.abc.Stream:
        request = self.current
        if self.phase is DETACHED or request is None or not request.upgrade:
            raise RuntimeError("only the current Upgrade or CONNECT request can take the stream")
        self.phase = DETACHED
        trailing = self.parser.trailing_data
        if not replay_head:
            return PrefixedStream(self.stream, trailing) if trailing else self.stream
        lines = [f"{request.method} {request.target} HTTP/{request.http_version}\r\n"]
        lines.extend(f"{name}: {value}\r\n" for name, value in request.raw_headers)
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        return PrefixedStream(self.stream, head + trailing)
