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
(``geetrio._core.budget``; ``max_connections`` caps this server alone); a new connection
has ``option_timeout`` seconds to send its Option line, each frame ``frame_timeout``
seconds from its first byte to its last (a trickled frame drops the connection), and
an idle connection — no request in flight, none arriving — is closed after
``idle_timeout``. In flight per connection (``connection``): at most ``MAX_IN_FLIGHT`` requests and
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
import os
import ssl
from collections.abc import Sequence
from functools import partial

import trio

from .._core.accept import accept_loop, serve_until_shutdown
from .._core.budget import Share, process_budget
from .._core.streams import close_now
from .._core.text import limited, shorten
from .._core.tls import HANDSHAKE_TIMEOUT, Handshakes, warn_if_exposed
from ..http._mount import Routes
from ._connection import Connection
from ._errors import FrameError
from ._http import DEBUG_PATH, RPC_PATH, mount
from ._intercept import Interceptor, chain
from ._service import Method, Service
from .protocol import DEFAULT_MAX_FRAME_BYTES

__all__ = ["Server"]

log = logging.getLogger("geetrio.rpc")

OPTION_TIMEOUT = 10.0  # seconds a new connection has to send its Option line
FRAME_TIMEOUT = 10.0  # seconds from a frame's first byte to its last
IDLE_TIMEOUT = 300.0  # seconds a connection with nothing in flight stays open
MAX_PENDING_BYTES = 8 * 1024 * 1024  # request bodies being handled + replies not written
DEFAULT_GRACE = 5.0  # seconds in-flight requests get after a graceful shutdown began


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
        ssl_context: ssl.SSLContext | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        if max_connections is not None and max_connections <= 0:
            raise ValueError("max_connections must be positive or None")
        if min(option_timeout, frame_timeout, idle_timeout, handshake_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if max_pending_bytes <= 0:
            raise ValueError("max_pending_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self.max_connections = max_connections
        self.option_timeout = option_timeout
        self.frame_timeout = frame_timeout
        self.idle_timeout = idle_timeout
        self.max_pending_bytes = max_pending_bytes
        self.ssl_context = ssl_context  # TLS on what serve/serve_unix accept (tls@ addresses)
        self.handshake_timeout = handshake_timeout
        self.handshakes = Handshakes()  # TLS handshakes under way, evicted when full
        # around every call, the first outermost (``rpc.token_interceptor``, your own)
        self.interceptor = chain(interceptors) if interceptors else None
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
        if self.ssl_context is None:
            warn_if_exposed(listeners, log, "GeeRPC")
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
        replaced; any other file makes the bind fail (it is never deleted). Cancelled:
        as ``serve``, everything stops at once."""
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
        open_connections: dict[Connection, None] = {}  # in accept order
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
        open_connections: dict[Connection, None],
    ) -> None:

        def drain() -> None:
            log.info(
                "rpc server: shutting down: %d connections drain for up to %g s",
                len(open_connections),
                grace,
            )
            for connection in list(open_connections):
                connection.drain()

        await serve_until_shutdown(
            listeners,
            partial(self._accept, tracked=open_connections, share=share, shutdown=shutdown),
            shutdown=shutdown,
            grace=grace,
            drain=drain,
            started=lambda: None,
        )

    async def _accept(
        self,
        listener: trio.SocketListener,
        nursery: trio.Nursery,
        tracked: dict[Connection, None],
        share: Share,
        shutdown: trio.Event | None,
    ) -> None:
        """The shared accept loop (``geetrio._core.accept``) on this server's share;
        when full, the oldest idle connection (else the oldest unfinished TLS handshake)
        makes room for a waiting client."""

        def evict() -> bool:
            for connection in tracked:  # the oldest first
                if connection.idle:
                    limited.info(log, "rpc server: full; closing the oldest idle connection")
                    connection.scope.cancel(reason="evicted for a new connection")
                    return True
            return self.handshakes.evict_oldest()

        def start(stream: trio.abc.Stream) -> None:
            if self.ssl_context is not None:  # the handshake in its own task first
                nursery.start_soon(self._serve_tls, stream, tracked, share, shutdown)
                return
            connection = Connection(self, stream)
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

    async def _serve_tls(
        self,
        stream: trio.abc.Stream,
        tracked: dict[Connection, None],
        share: Share,
        shutdown: trio.Event | None,
    ) -> None:
        """TLS first (within ``handshake_timeout``, holding its slot of the budget),
        then the connection as any other — unless a shutdown began meanwhile."""
        assert self.ssl_context is not None
        tls = None
        try:
            tls = await self.handshakes.accept(stream, self.ssl_context, self.handshake_timeout)
            if shutdown is not None and shutdown.is_set():
                tls = None  # no new connections once a shutdown began
        finally:
            if tls is None:
                share.release()
                if not close_now(stream):
                    await trio.aclose_forcefully(stream)
        if tls is None:
            return
        connection = Connection(self, tls)
        tracked[connection] = None
        await self._serve_connection(connection, tracked, share)

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one connection on any trio stream until it ends; closes the stream.
        Cancelled: its running calls are cancelled and the stream closed at once."""
        await self._serve_connection(Connection(self, stream), None)

    async def _serve_connection(
        self,
        connection: Connection,
        tracked: dict[Connection, None] | None,
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
            if not close_now(stream):
                await trio.aclose_forcefully(stream)

    def mount(self, app: Routes, path: str = RPC_PATH, debug_path: str = DEBUG_PATH) -> None:
        """Serve RPC over HTTP CONNECT at ``path`` and the debug page at ``debug_path``
        on a ``geetrio.web`` Engine (or anything with its ``add_route``)."""
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
