"""A pipelining HTTP/1.1 client: many small requests to a few hosts (cache peers).

Each connection carries many requests at once. A caller queues its request and parks;
the connection's writer task sends every request queued meanwhile in one ``send_all``;
its reader task feeds what arrives to a sans-IO ``ResponseParser`` and wakes the callers
in order (an HTTP/1.1 server answers pipelined requests in order). Under load a round
trip costs a caller no system call and no socket wait of its own: one ``send`` and one
``recv`` serve a whole batch, on both sides (geetrio's server batches its answers to
requests that arrived together). Measured against one-request-per-connection-at-a-time,
see ``benchmarks/cache``.

Cancellation: a cancelled caller stops waiting at once. If its request was not written
yet it is never sent; if it was, its answer is read and dropped when it comes, so the
connection stays in step for everyone else. Timeouts are the caller's cancel scopes.

Head-of-line blocking: a server answers a connection's requests in order, so one slow
answer (a cold key its owner loads from a database) holds up every request queued
behind it. A connection whose oldest unanswered request is older than ``stall_after``
takes no new requests while another connection can (one is opened, up to
``max_connections_per_host``); so a slow request costs one connection, not the traffic.

Failure: a connection that breaks, closes, or answers garbage fails every request still
waiting on it with ``ClientError`` (the request may or may not have reached the server)
and leaves the pool; the next request opens a fresh one. Idle connections are retired
after ``idle_timeout`` seconds, before the server's keep-alive timeout closes them.

HEAD is not supported here (its answer has no body to frame the next one by); use
``HTTPClient`` for it.
"""

from __future__ import annotations

import logging
import ssl
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import outcome
import trio

from .._core.nursery import unwrapped_nursery
from .._core.tls import client_context, connect_tls
from .._core.waiter import Waiter
from ._client import check_target, request_head
from ._errors import ClientError
from ._response_parser import MAX_RESPONSE_BODY, ClientResponse, ResponseParser

__all__ = ["PipelinedClient", "open_pipelined_client"]

log = logging.getLogger("geetrio.http")

RECEIVE_SIZE = 65536


@asynccontextmanager
async def open_pipelined_client(
    *,
    connections_per_host: int = 2,
    max_connections_per_host: int = 16,
    stall_after: float = 0.02,
    idle_timeout: float = 4.0,
    max_response_bytes: int = MAX_RESPONSE_BODY,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[PipelinedClient]:
    """``async with open_pipelined_client() as client:`` — its connections' tasks live
    in a nursery of its own and end with the block (cancelled or not: the connections
    close and calls still waiting fail with ``ClientError``)."""
    async with unwrapped_nursery() as nursery:
        client = PipelinedClient(
            nursery,
            connections_per_host=connections_per_host,
            max_connections_per_host=max_connections_per_host,
            stall_after=stall_after,
            idle_timeout=idle_timeout,
            max_response_bytes=max_response_bytes,
            ssl_context=ssl_context,
        )
        try:
            yield client
        finally:
            client.close()


class PipelinedClient:
    """Pipelined keep-alive connections: ``connections_per_host`` per host under load,
    more (up to ``max_connections_per_host``) while some are stalled; requests go to
    the connection with the fewest waiting. Create it with ``open_pipelined_client()``."""

    def __init__(
        self,
        nursery: trio.Nursery,
        *,
        connections_per_host: int = 2,
        max_connections_per_host: int = 16,
        stall_after: float = 0.02,
        idle_timeout: float = 4.0,
        max_response_bytes: int = MAX_RESPONSE_BODY,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not 1 <= connections_per_host <= max_connections_per_host:
            raise ValueError("need 1 <= connections_per_host <= max_connections_per_host")
        self._nursery = nursery
        self.connections_per_host = connections_per_host
        self.max_connections_per_host = max_connections_per_host
        self.stall_after = stall_after
        self.idle_timeout = idle_timeout
        self.max_response_bytes = max_response_bytes
        self._pipes: dict[tuple[str, int, bool], list[_Pipe]] = {}
        self.ssl_context = ssl_context  # for tls=True; the system's CAs when None
        self._closed = False

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
        """Send one request (over TLS with ``tls``) and wait for its whole response.
        ``target`` is sent as given (percent-encode it yourself). Raises ``ClientError``
        when the server is unreachable, breaks the protocol, or the connection fails
        before the answer.
        Cancelled: at once; a request not written yet never is, one written may have
        run (its answer is read and dropped, the connection stays usable)."""
        if self._closed:
            raise ClientError("the client is closed")
        if method == "HEAD":
            raise ValueError("HEAD cannot be pipelined here: use HTTPClient")
        check_target(target)
        head = request_head(method, host, port, target, headers or [], len(body))
        return await self._pick(host, port, tls).call(head + body if body else head)

    def _pick(self, host: str, port: int, tls: bool) -> _Pipe:
        pipes = self._pipes.get((host, port, tls))
        if pipes is None:
            pipes = self._pipes[host, port, tls] = []
        now = trio.current_time()
        best: _Pipe | None = None  # the least loaded connection that is not stalled
        stalled: _Pipe | None = None  # the least loaded of the stalled ones
        stall_before = now - self.stall_after
        for pipe in pipes:
            if not pipe.usable(now):
                continue
            if pipe.in_flight and pipe.in_flight[0].queued_at < stall_before:
                if stalled is None or pipe.load() < stalled.load():
                    stalled = pipe
            elif best is None or pipe.load() < best.load():
                best = pipe
        live = len(pipes)
        if best is not None and not (best.load() and live < self.connections_per_host):
            return best
        if live < self.max_connections_per_host and (best is None or best.load()):
            pipe = _Pipe(self, host, port, tls)
            pipes.append(pipe)
            self._nursery.start_soon(pipe.run)
            return pipe
        chosen = best or stalled
        assert chosen is not None
        return chosen

    def forget(self, pipe: _Pipe) -> None:
        pipes = self._pipes.get((pipe.host, pipe.port, pipe.tls), [])
        if pipe in pipes:
            pipes.remove(pipe)

    def close(self) -> None:
        """Fail what is still waiting and close every connection (at once, no I/O)."""
        self._closed = True
        for pipes in list(self._pipes.values()):
            for pipe in list(pipes):
                pipe.fail(ClientError("the client is closed"))
        self._pipes.clear()


class _Call(Waiter[ClientResponse]):
    """A request and the caller waiting for its answer (abandoned when cancelled)."""

    __slots__ = ("payload", "queued_at")

    def __init__(self, payload: bytes, queued_at: float) -> None:
        super().__init__()
        self.payload = payload
        self.queued_at = queued_at


class _Pipe:
    """One connection: a queue of requests to write, a queue of answers to await."""

    def __init__(self, client: PipelinedClient, host: str, port: int, tls: bool) -> None:
        self.client = client
        self.host = host
        self.port = port
        self.tls = tls
        self.unsent: deque[_Call] = deque()
        self.in_flight: deque[_Call] = deque()  # written, in order, answers pending
        self.broken: ClientError | None = None
        self.stream: trio.abc.Stream | None = None  # once connected
        self.retiring = False  # takes no new requests
        self.last_active = trio.current_time()
        self._writer_idle = trio.lowlevel.ParkingLot()
        self._scope = trio.CancelScope()

    def load(self) -> int:
        return len(self.unsent) + len(self.in_flight)

    def usable(self, now: float) -> bool:
        if self.broken is not None or self.retiring:
            return False
        if (
            not self.in_flight
            and not self.unsent
            and now - self.last_active > self.client.idle_timeout
        ):
            self.retiring = True  # idle too long: the server may be closing it
            self._scope.cancel()
            return False
        return True

    async def call(self, payload: bytes) -> ClientResponse:
        call = _Call(payload, trio.current_time())
        self.unsent.append(call)
        self._writer_idle.unpark()
        return await call.wait()  # cancelled: unsent, skipped; in flight, answer dropped

    async def run(self) -> None:
        """Connect, then write and read until closed or broken (in the client's nursery)."""
        with self._scope:
            try:
                stream = self.stream = await self._connect()
            except OSError as exc:
                self.fail(ClientError(f"cannot connect to {self.host}:{self.port}: {exc}"))
                return
            except trio.BrokenResourceError as exc:
                reason = exc.__cause__ or exc
                self.fail(ClientError(f"TLS with {self.host}:{self.port} failed: {reason}"))
                return
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write, stream, nursery.cancel_scope)
                    await self._read(stream)
                    nursery.cancel_scope.cancel()
            finally:
                await trio.aclose_forcefully(stream)
        self.fail(ClientError(f"connection to {self.host}:{self.port} closed"))

    async def _connect(self) -> trio.abc.Stream:
        """The connection, over TLS for ``tls`` (handshake included); ``OSError`` (or
        ``trio.BrokenResourceError`` for a failed handshake) when it cannot be made."""
        socket = await trio.open_tcp_stream(self.host, self.port)
        if not self.tls:
            return socket
        if self.client.ssl_context is None:
            self.client.ssl_context = client_context()
        return await connect_tls(socket, self.client.ssl_context, self.host)

    async def _write(self, stream: trio.abc.Stream, scope: trio.CancelScope) -> None:
        unsent, in_flight = self.unsent, self.in_flight
        try:
            while True:
                while not unsent:
                    await self._writer_idle.park()
                batch = []
                while unsent:
                    call = unsent.popleft()
                    if not call.abandoned:
                        in_flight.append(call)
                        batch.append(call.payload)
                if batch:
                    await stream.send_all(batch[0] if len(batch) == 1 else b"".join(batch))
        except (trio.BrokenResourceError, OSError) as exc:
            self.fail(ClientError(f"connection to {self.host}:{self.port} failed: {exc}"))
            scope.cancel()

    async def _read(self, stream: trio.abc.Stream) -> None:
        parser = ResponseParser(max_body=self.client.max_response_bytes, pipelined=True)
        in_flight = self.in_flight
        try:
            while True:
                data = await stream.receive_some(RECEIVE_SIZE)
                if not data:
                    parser.eof()
                    if in_flight:
                        raise ClientError(f"{self.host}:{self.port} closed the connection")
                    return
                parser.feed(data)
                for response in parser.pop_responses():
                    if not in_flight:
                        raise ClientError(f"{self.host}:{self.port} sent an unrequested response")
                    in_flight.popleft().set(outcome.Value(response))
                    if not response.keep_alive:
                        self.retiring = True
                        if not in_flight and not self.unsent:
                            return
                self.last_active = trio.current_time()
        except (trio.BrokenResourceError, OSError) as exc:
            self.fail(ClientError(f"connection to {self.host}:{self.port} failed: {exc}"))
        except ClientError as exc:
            self.fail(exc)
        finally:
            parser.close()

    def fail(self, error: ClientError) -> None:
        """Wake every caller still waiting with ``error``; the pipe leaves the pool."""
        if self.broken is None:
            self.broken = error
            if self.in_flight or self.unsent:
                log.debug("pipelined connection to %s:%d: %s", self.host, self.port, error)
        self.client.forget(self)
        self._scope.cancel()
        for queue in (self.in_flight, self.unsent):
            while queue:
                queue.popleft().set(outcome.Error(self.broken))
