"""The HTTP/1.1 server: accept loop, one task per connection, graceful shutdown.

Design (docs/architecture.md, trio facts 4 and 6): each connection is one task that parses with the
sans-IO ``RequestParser`` and runs the handler inline, so pipelined requests are
answered in order with no task or channel per request. Each response (head and body)
goes out in one ``send_all``; the answers to pipelined requests that arrived together
go out together, in one ``send_all`` per batch.

Timeouts: before each wait on the socket a connection writes a plain deadline
(``header_timeout`` while a request head arrives, ``keep_alive_timeout`` while idle,
``send_timeout`` while a send is stuck), and sets it back to infinity after; the handler
runs with no deadline. One sweeper task per server ends each connection whose
deadline has passed (``Connection.end``). Moving a real cancel-scope deadline
twice per request cost 2.4 us, a tenth of our whole per-request budget; the sweeper
costs two attribute writes, and timeouts fire within ``_sweep_interval`` of their
deadline. A receive that completed just as its scope was cancelled is dropped (the
connection closes) instead of running the handler under a pending cancellation.

Shutdown: when the ``shutdown`` event is set, the accept loops stop (their listeners
close, so new connections are refused), idle keep-alive connections are closed at
once, responses carry ``connection: close``, and in-flight requests get
``config.grace`` seconds before they are cancelled. Cancelling ``serve`` itself stops
everything at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import trio

from .._core.accept import accept_loop, serve_until_shutdown
from .._core.budget import process_budget
from .._core.sockstream import FastSocketStream
from .._core.streams import close_now
from .._core.text import limited
from .._core.tls import Handshakes, warn_if_exposed
from ._config import ServerConfig
from ._connection import Connection, End, Phase
from ._message import Request
from ._stats import ServerStats
from ._types import Handler

__all__ = ["Handler", "serve", "serve_listeners"]

log = logging.getLogger("geetrio.http")


SWEEP_BATCH = 32  # timed-out connections cancelled per scheduler batch


async def serve(
    handler: Handler,
    host: str | None,
    port: int,
    *,
    config: ServerConfig | None = None,
    shutdown: trio.Event | None = None,
    stream_body: Callable[[Request], bool] | None = None,
    stats: ServerStats | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP on ``host:port`` until cancelled or ``shutdown`` is set.

    Use with ``port = await nursery.start(serve, handler, "127.0.0.1", 0)``: the
    bound port is reported once the server accepts connections. ``host`` None or ""
    listens on every interface. ``stream_body(request)``, asked once the head of a
    request with a body is complete, says whether the handler reads that body as a
    stream (``request.body_stream``) instead of getting it whole. ``stats``, when
    given, counts the connections open and the requests the server refused.
    """
    listeners = await trio.open_tcp_listeners(port, host=host or None)
    if config is None or config.ssl_context is None:
        warn_if_exposed(listeners, log, "plain HTTP")
    await serve_listeners(
        handler,
        listeners,
        config=config,
        shutdown=shutdown,
        stream_body=stream_body,
        stats=stats,
        task_status=task_status,
    )


async def serve_listeners(
    handler: Handler,
    listeners: Sequence[trio.abc.Listener[Any]],
    *,
    config: ServerConfig | None = None,
    shutdown: trio.Event | None = None,
    stream_body: Callable[[Request], bool] | None = None,
    stats: ServerStats | None = None,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``serve`` on listeners you made (memory listeners in tests, unix sockets).
    Reports the first listener's port when it is a TCP socket, else None. Cancelled:
    everything stops at once (no grace; that is what ``shutdown`` is for)."""
    server = _Server(handler, config or ServerConfig(), stream_body, stats)
    try:
        await server.serve(listeners, shutdown, task_status)
    finally:
        server.share.close()
    log.info("server stopped")


def _port_of(listener: trio.abc.Listener[Any]) -> int | None:
    if isinstance(listener, trio.SocketListener):
        port: int = listener.socket.getsockname()[1]
        return port
    return None


class _Server:
    def __init__(
        self,
        handler: Handler,
        config: ServerConfig,
        stream_body: Callable[[Request], bool] | None = None,
        stats: ServerStats | None = None,
    ) -> None:
        self.handler = handler
        self.stream_body = stream_body
        self.config = config
        self.draining = False
        self.connections: dict[Connection, None] = {}  # in accept order
        self.stats = stats if stats is not None else ServerStats()
        self.handshakes = Handshakes()  # TLS handshakes under way
        # this server's draw on the process's connection budget (and its own cap)
        self.share = process_budget().share(config.max_connections)

    async def serve(
        self,
        listeners: Sequence[trio.abc.Listener[Any]],
        shutdown: trio.Event | None,
        task_status: trio.TaskStatus[Any],
    ) -> None:
        await serve_until_shutdown(
            listeners,
            self.accept_loop,
            shutdown=shutdown,
            grace=self.config.grace,
            drain=self.drain,
            started=lambda: task_status.started(_port_of(listeners[0]) if listeners else None),
            background=[self.sweep_timeouts],
        )

    async def accept_loop(self, listener: trio.abc.Listener[Any], nursery: trio.Nursery) -> None:
        """The shared accept loop (``geetrio._core.accept``) on this server's share."""

        def start(stream: trio.abc.Stream) -> None:
            nursery.start_soon(self.run_connection, stream)

        await accept_loop(
            listener,
            self.share,
            start,
            evict=self.evict_idle,
            open_count=lambda: len(self.connections),
            log=log,
        )

    async def run_connection(self, stream: trio.abc.Stream) -> None:
        try:
            context = self.config.ssl_context
            if context is not None:  # the handshake in this task, never the accept loop's
                tls = await self.handshakes.accept(stream, context, self.config.handshake_timeout)
                if tls is None:  # failed, timed out, or evicted (``evict_idle``)
                    return
                stream = tls
            else:
                stream = FastSocketStream.of(stream)
            await self.serve_connection(Connection(self, stream))
        finally:
            self.share.release()
            if not close_now(stream):
                await trio.aclose_forcefully(stream)

    async def serve_connection(self, connection: Connection) -> None:
        self.connections[connection] = None
        self.stats.open += 1
        try:
            await connection.run()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("connection from %s lost", connection.remote_addr)
        except Exception:
            log.exception("internal error on connection from %s", connection.remote_addr)
        finally:
            connection.parser.close()  # frees the last request's body now, not at GC
            connection.current = None
            self.connections.pop(connection, None)
            self.stats.open -= 1

    async def sweep_timeouts(self) -> None:
        """Cancel the connections whose wait passed its deadline, ``SWEEP_BATCH`` at a
        time with a checkpoint between batches: a wave of thousands of slowloris
        timeouts (each answered 408) then goes out a batch at a time, between the
        other connections' I/O, instead of in one long scheduler batch."""
        config = self.config
        interval = _sweep_interval(config)
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            due = [c for c in self.connections if c.deadline <= now]
            for done, connection in enumerate(due):
                if done and done % SWEEP_BATCH == 0:
                    # let this batch run and the other connections' I/O be polled
                    await trio.lowlevel.checkpoint()
                if connection.deadline <= now:
                    connection.end(End.TIMEOUT)

    def evict_idle(self) -> bool:
        """Close the oldest idle keep-alive connection, else the oldest TLS handshake
        still under way (the server is full and a new client waits: a flood of
        handshakes that never finish cannot keep it out); False when there is neither."""
        for connection in self.connections:
            if connection.phase is Phase.WAITING and connection.ended is None:
                limited.info(log, "server full: closing the oldest idle connection")
                connection.end(End.EVICTED)
                return True
        return self.handshakes.evict_oldest()

    def drain(self) -> None:
        """Start a graceful shutdown: idle connections close now, busy ones after
        their current response."""
        log.info("shutdown requested: no new connections; draining in-flight requests")
        self.draining = True
        for connection in self.connections:
            if connection.phase is Phase.WAITING:
                connection.end(End.SHUTDOWN)


def _sweep_interval(config: ServerConfig) -> float:
    shortest = min(config.header_timeout, config.keep_alive_timeout, config.send_timeout)
    return min(max(shortest / 8, 0.01), 1.0)
