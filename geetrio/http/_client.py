"""The project's own HTTP/1.1 client: pooled keep-alive connections, sans-IO parsing.

For what geetrio itself calls over HTTP (cache peers, registry heartbeats and discovery,
RPC over HTTP), not a general browser-grade client: plain ``http://`` only, whole bodies
in memory (bounded by ``max_response_bytes``).

Timeouts are the caller's cancel scopes (``with trio.fail_after(1): await client.get(...)``).
A request that is cancelled or fails midway closes its connection (its state is
unknown); only connections that finished a response cleanly return to the pool.
The client runs no background task, so it needs no nursery: it is an async context
manager that owns its idle connections and closes them on exit. Idle connections
expire lazily when taken from the pool.
"""

from __future__ import annotations

import math
import select
import ssl
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import trio

from .. import tracing
from .._core.tls import client_context, connect_tls
from .._core.urls import HTTPURL, authority, parse_http_url
from ._errors import ClientError
from ._headers import Headers
from ._response_parser import ClientResponse, ResponseParser

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["ClientError", "ClientResponse", "HTTPClient", "StreamedResponse"]

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Connection:
    __slots__ = ("idle_since", "parser", "socket", "stream")

    def __init__(self, stream: trio.abc.Stream, socket: trio.SocketStream, max_body: int) -> None:
        self.stream = stream  # the socket stream, or a TLS stream over it
        self.socket = socket
        self.idle_since = math.inf
        self.parser = ResponseParser(max_body=max_body)

    def looks_alive(self) -> bool:
        """An idle connection has nothing to read. If it is readable, the server closed
        it (EOF) or sent stray bytes; either way it cannot carry a request. (Over TLS a
        late session ticket makes the socket readable too: no test there, a stale
        connection shows when used, and idempotent requests are tried once more.)"""
        if self.stream is not self.socket:
            return True
        poller = select.poll()
        poller.register(self.socket.socket.fileno(), select.POLLIN)
        return not poller.poll(0)

    def close_now(self) -> None:
        """Close without I/O (an idle connection: no TLS goodbye needed)."""
        self.socket.socket.close()


class HTTPClient:
    """Pooled keep-alive HTTP/1.1 client.

    >>> async with HTTPClient() as client:              # doctest: +SKIP
    ...     with trio.fail_after(1.0):
    ...         response = await client.get("http://127.0.0.1:8001/_geecache/g/k")

    ``max_idle_per_host`` idle connections are kept per host, each for at most
    ``idle_timeout`` seconds (keep it below the servers' keep-alive timeout).
    ``https://`` URLs (``fetch(..., tls=True)``) use ``ssl_context`` — by default the
    system's CAs, verifying the host name; ``client_ssl_context(ca, certfile=...)`` for
    a private CA or mutual TLS.
    """

    def __init__(
        self,
        *,
        max_idle_per_host: int = 64,
        idle_timeout: float = 4.0,
        max_response_bytes: int = 64 * 1024 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_idle_per_host = max_idle_per_host
        self.idle_timeout = idle_timeout
        self.max_response_bytes = max_response_bytes
        self.ssl_context = ssl_context
        self._idle: dict[tuple[str, int, bool], deque[_Connection]] = {}
        self._closed = False

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection; the client takes no more requests. Cancelled:
        the connections are still closed (``aclose_forcefully`` does not wait)."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close_now()
        await trio.lowlevel.checkpoint()

    async def get(
        self, url: str, *, headers: list[tuple[str, str]] | None = None
    ) -> ClientResponse:
        """``request("GET", url)``. Cancelled: as ``request``."""
        return await self.request("GET", url, headers=headers)

    async def post(
        self, url: str, body: bytes = b"", *, headers: list[tuple[str, str]] | None = None
    ) -> ClientResponse:
        """``request("POST", url, body)``. Cancelled: as ``request``."""
        return await self.request("POST", url, headers=headers, body=body)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> ClientResponse:
        """Send one request and read the whole response.

        Raises ``ClientError`` when the server is unreachable, breaks the protocol or
        closes mid-response. On cancellation the connection is closed and the request
        may or may not have reached the server.
        """
        parsed = _split_url(url)
        return await self.fetch(
            method,
            parsed.host,
            parsed.port,
            parsed.target,
            headers=headers,
            body=body,
            tls=parsed.tls,
        )

    async def fetch(
        self,
        method: str,
        host: str,
        port: int,
        target: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        tls: bool = False,
    ) -> ClientResponse:
        """``request`` with the URL already split (no parsing on hot paths); ``tls``
        for ``https``.
        ``target`` is sent as given: percent-encode it yourself. Cancelled: the
        connection is closed; the request may or may not have reached the server."""
        if self._closed:
            raise ClientError("the client is closed")
        tracer = tracing.tracer()
        if tracer is not None and not _carries_trace(headers):
            return await self._traced_fetch(tracer, method, host, port, target, headers, body, tls)
        check_target(target)
        head = request_head(method, host, port, target, headers or [], len(body))
        payload = head + body if body else head
        connection = self._checkout(host, port, tls)
        if connection is not None:
            try:
                return await self._exchange(connection, host, port, tls, method, payload)
            except ClientError:
                if method not in _IDEMPOTENT:
                    raise
                # The server may have closed this pooled connection just as we used it:
                # an idempotent request is safe to try once more on a new connection.
        connection = await self._connect(host, port, tls)
        return await self._exchange(connection, host, port, tls, method, payload)

    async def _traced_fetch(
        self,
        tracer: Tracer,
        method: str,
        host: str,
        port: int,
        target: str,
        headers: list[tuple[str, str]] | None,
        body: bytes,
        tls: bool,
    ) -> ClientResponse:
        """``fetch`` in a client span whose ``traceparent`` the server continues."""
        carrier: dict[str, str] = {}
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "server.address": host,
            "server.port": port,
            "url.path": target.partition("?")[0],
        }
        with tracing.client_span(tracer, f"HTTP {method}", attributes, carrier) as span:
            sent = [*(headers or ()), *carrier.items()]
            response = await self.fetch(
                method, host, port, target, headers=sent, body=body, tls=tls
            )
            span.set_attribute("http.response.status_code", response.status)
            return response

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        max_chunk_bytes: int = 1 << 20,
    ) -> AsyncIterator[StreamedResponse]:
        """A response read as it arrives, for endless bodies (a watch, a feed); cancelled
        (while connecting or reading), its connection is closed:

        >>> async with client.stream("POST", url, body=b"{}") as response:  # doctest: +SKIP
        ...     async for chunk in response:
        ...         ...

        On a connection of its own, closed when the block ends. ``ClientError`` as for
        ``request``; a body piece over ``max_chunk_bytes`` not read yet is one too."""
        if self._closed:
            raise ClientError("the client is closed")
        parsed = _split_url(url)
        host, port, target = parsed.host, parsed.port, parsed.target
        check_target(target)
        head = request_head(method, host, port, target, headers or [], len(body))
        connection = await self._connect(host, port, parsed.tls)
        parser = ResponseParser(max_body=max_chunk_bytes, streaming=True)
        streamed = StreamedResponse(connection.stream, parser, f"{host}:{port}")
        try:
            await streamed.start(head + body)
            yield streamed
        finally:
            parser.close()
            await trio.aclose_forcefully(connection.stream)

    async def _connect(self, host: str, port: int, tls: bool) -> _Connection:
        try:
            socket = await trio.open_tcp_stream(host, port)
        except OSError as exc:
            raise ClientError(f"cannot connect to {host}:{port}: {exc}") from exc
        if not tls:
            return _Connection(socket, socket, self.max_response_bytes)
        if self.ssl_context is None:
            self.ssl_context = client_context()
        try:
            stream = await connect_tls(socket, self.ssl_context, host)
        except trio.BrokenResourceError as exc:
            raise ClientError(f"TLS with {host}:{port} failed: {exc.__cause__ or exc}") from exc
        return _Connection(stream, socket, self.max_response_bytes)

    def _checkout(self, host: str, port: int, tls: bool) -> _Connection | None:
        connections = self._idle.get((host, port, tls))
        now = trio.current_time()
        while connections:
            connection = connections.pop()  # newest first: the least likely to be stale
            if now - connection.idle_since < self.idle_timeout and connection.looks_alive():
                return connection
            connection.close_now()  # it never did I/O since
        return None

    async def _exchange(
        self, connection: _Connection, host: str, port: int, tls: bool, method: str, payload: bytes
    ) -> ClientResponse:
        stream = connection.stream
        if method == "HEAD":  # a HEAD answer stops its parser midway: use a throwaway one
            parser = ResponseParser(head=True, max_body=self.max_response_bytes)
        else:
            parser = connection.parser
            parser.next_response()
        try:
            await stream.send_all(payload)
            while parser.response is None:
                data = await stream.receive_some(65536)
                if not data:
                    parser.eof()
                    break
                parser.feed(data)
        except (trio.BrokenResourceError, OSError) as exc:
            await trio.aclose_forcefully(stream)
            raise ClientError(f"connection to {host}:{port} failed: {exc}") from exc
        except BaseException:
            await trio.aclose_forcefully(stream)  # cancelled or broken midway: unusable
            raise
        response = parser.response
        assert response is not None
        if response.keep_alive and not self._closed:
            self._checkin((host, port, tls), connection)
        else:
            await trio.aclose_forcefully(stream)
        return response

    def _checkin(self, key: tuple[str, int, bool], connection: _Connection) -> None:
        if self.max_idle_per_host <= 0:  # no pooling: every request on its own connection
            connection.close_now()
            return
        connections = self._idle.setdefault(key, deque())
        if len(connections) >= self.max_idle_per_host:
            connections.popleft().close_now()
        connection.idle_since = trio.current_time()
        connections.append(connection)


class StreamedResponse:
    """A response whose body comes in pieces: ``status``, ``headers``, then
    ``async for chunk in response`` until the body ends."""

    def __init__(self, stream: trio.abc.Stream, parser: ResponseParser, where: str) -> None:
        self._stream = stream
        self._parser = parser
        self._where = where
        self.status = 0
        self.headers: Headers = Headers([])

    async def _receive(self) -> None:
        try:
            data = await self._stream.receive_some(65536)
        except (trio.BrokenResourceError, OSError) as exc:
            raise ClientError(f"connection to {self._where} failed: {exc}") from exc
        if not data:
            if not self._parser.finished:
                raise ClientError(f"{self._where} closed before the response was complete")
            return
        self._parser.feed(data)

    async def start(self, payload: bytes) -> None:
        try:
            await self._stream.send_all(payload)
        except (trio.BrokenResourceError, OSError) as exc:
            raise ClientError(f"connection to {self._where} failed: {exc}") from exc
        while self._parser.head is None:
            await self._receive()
        self.status = self._parser.head.status
        self.headers = self._parser.head.headers

    def __aiter__(self) -> StreamedResponse:
        return self

    async def __anext__(self) -> bytes:
        while True:
            chunk = self._parser.take_body()
            if chunk:
                return chunk
            if self._parser.finished:
                raise StopAsyncIteration
            await self._receive()


def _split_url(url: str) -> HTTPURL:
    return parse_http_url(url, "a URL (only http:// and https:// with a host)", https=True)


def _carries_trace(headers: list[tuple[str, str]] | None) -> bool:
    """Whether the caller put a trace context in ``headers`` already (a peer fetch)."""
    return bool(headers) and any(name.lower() == "traceparent" for name, _ in headers or ())


def check_target(target: str) -> None:
    """A request target we send as given: it must start with ``/``, no spaces."""
    if not target.startswith("/") or any(c in target for c in " \r\n"):
        raise ValueError(f"request target must start with '/' and have no spaces: {target!r}")


def request_head(
    method: str, host: str, port: int, target: str, headers: list[tuple[str, str]], length: int
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nHost: {authority(host, port)}\r\n"]
    for name, value in headers:
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}\r\n")
    if length or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {length}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")
