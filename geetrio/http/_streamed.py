"""A streamed response on a connection (sans the connection: ``Sending`` is what it
needs of one): with its ``content-length``, or chunked to HTTP/1.1 clients, or until
the connection closes to HTTP/1.0 ones; the client watched meanwhile, so one that goes
away cancels the producer at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from typing import Protocol

import trio

from .._core.nursery import unwrapped_nursery
from ._errors import ProtocolError
from ._message import Request, Response, render_head
from ._parser import RequestParser

__all__ = ["send_streamed"]

log = logging.getLogger("geetrio.http")

RECEIVE_SIZE = 65536
STREAM_CLOSE_SECONDS = 1.0  # closing a response's stream may take this long
# Bytes of pipelined requests read while a streamed response goes out; past that the
# client is no longer watched (a write that fails still ends the connection).
WATCH_BYTES = 1 << 16


class Sending(Protocol):
    """What a streamed response needs of its connection."""

    stream: trio.abc.Stream
    parser: RequestParser
    client_gone: bool

    async def send(self, data: bytes) -> None: ...


async def send_streamed(
    conn: Sending, request: Request, response: Response, keep_alive: bool
) -> bool:
    """Send a streamed response: with its ``content-length``, else chunked to an
    HTTP/1.1 client (close-delimited to an HTTP/1.0 one). The stream is closed whatever
    happens (``aclose()``, shielded and bounded); a client that goes away meanwhile
    cancels it at once (``_watch``). A stream that yields more or fewer bytes than its
    ``content-length``, or fails midway, ends the connection: the client could not tell
    where the next response starts (a chunked body then lacks its last chunk: the
    client sees it cut)."""
    status = response.status
    stream = response.stream
    assert stream is not None
    headers = response.headers
    length = _declared_length(headers)
    chunked = length is None and request.http_version == "1.1"
    if chunked:
        headers = [*headers, ("transfer-encoding", "chunked")]
    elif length is None:
        keep_alive = False  # no length: the body ends when the connection does
    body_read = request.body_stream is None or request.body_stream.complete
    try:
        await conn.send(render_head(status, headers, None, keep_alive))
        if request.method == "HEAD":
            return keep_alive
        whole = False
        async with unwrapped_nursery() as nursery:  # a send's error comes out as itself
            with trio.CancelScope() as sending:  # the watcher cancels this one
                if body_read:  # else the socket still carries this request's body
                    nursery.start_soon(_watch, conn, sending)
                whole = await _send_body(conn, request, stream, length, chunked)
            nursery.cancel_scope.cancel()  # the watcher's turn to stop
        if conn.client_gone:
            return False
        if not whole:
            return False
        if chunked:
            await conn.send(b"0\r\n\r\n")
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        raise
    except Exception:
        log.exception("response body failed for %s %s", request.method, request.target)
        return False  # part of the response is out: only closing can tell
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with trio.move_on_after(STREAM_CLOSE_SECONDS, shield=True):
                await aclose()
    return keep_alive


async def _send_body(
    conn: Sending, request: Request, stream: AsyncIterable[bytes], length: int | None, chunked: bool
) -> bool:
    """The body's chunks as they come; False when it broke its ``content-length``."""
    sent = 0
    async for chunk in stream:
        if not chunk:
            continue  # an empty chunk would end a chunked body
        if length is not None and sent + len(chunk) > length:
            await conn.send(chunk[: length - sent])
            log.error(
                "response body for %s %s is longer than its content-length %d",
                request.method,
                request.target,
                length,
            )
            return False
        sent += len(chunk)
        await conn.send(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
    if length is not None and sent != length:
        log.error(
            "response body for %s %s ended after %d of its %d bytes",
            request.method,
            request.target,
            sent,
            length,
        )
        return False
    return True


async def _watch(conn: Sending, scope: trio.CancelScope) -> None:
    """While a body streams out: read what the client sends (pipelined requests go
    to the parser, up to ``WATCH_BYTES``); when it closes or resets, cancel
    ``scope`` — the producer stops at once, not at its next write."""
    taken = 0
    while taken < WATCH_BYTES:
        try:
            data = await conn.stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if not data:
            conn.client_gone = True
            scope.cancel(reason="the client went away")
            return
        taken += len(data)
        try:
            conn.parser.feed(data)
        except ProtocolError:
            return  # the parser keeps the error: answered after this response


def _declared_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value)
    return None
