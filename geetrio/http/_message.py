"""Request and response objects shared by the server and the frameworks above it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ._headers import Headers

if TYPE_CHECKING:
    import trio

__all__ = ["BodyStream", "Request", "Response", "has_control", "render_head"]


_CONTROL = bytes(range(0x09)) + bytes(range(0x0A, 0x20)) + b"\x7f"  # all but HTAB
_NO_TRAILERS: list[tuple[str, str]] = []  # shared, never appended to


class Request:
    """One parsed HTTP request with its whole body.

    ``target`` is the request target exactly as sent (still percent-encoded),
    ``path`` its percent-decoded path without the query, ``query_string`` the raw text
    after ``?``. ``raw_headers`` keeps the ``(name, value)`` pairs as received;
    ``headers`` is a case-insensitive view built on first use. ``trailers`` holds the
    trailer fields of a chunked body, apart from the header fields (RFC 9110 §6.5.1:
    never merged into them); for a streamed body they are there once it was read.
    """

    __slots__ = (
        "_headers",
        "body",
        "body_stream",
        "http_version",
        "keep_alive",
        "method",
        "path",
        "query_string",
        "raw_headers",
        "remote_addr",
        "target",
        "trailers",
        "transport",
        "upgrade",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query_string: str,
        raw_headers: list[tuple[str, str]],
        body: bytes = b"",
        http_version: str = "1.1",
        keep_alive: bool = True,
        upgrade: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.path = path
        self.query_string = query_string
        self.raw_headers = raw_headers
        self.body = body
        self.http_version = http_version
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.remote_addr = ""
        self.trailers: list[tuple[str, str]] = _NO_TRAILERS  # a list of its own once any come
        # Set when the handler streams the body instead (``body`` is then empty).
        self.body_stream: BodyStream | None = None
        self._headers: Headers | None = None
        # Set by the server: lets a handler take the connection over (WebSocket).
        self.transport: Transport | None = None

    @property
    def peer_certificate(self) -> dict[str, Any] | None:
        """The client's TLS certificate, verified by the server's ``client_ca`` (mutual
        TLS), as ``getpeercert()`` gives it; None without one."""
        transport = self.transport
        return transport.peer_certificate if transport is not None else None

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} HTTP/{self.http_version}>"


class BodyStream:
    """A request body read as it arrives: ``async for chunk in request.body_stream``.

    Only for handlers that asked for it (``serve(..., stream_body=...)``; Gee routes
    registered with ``stream_body=True``): their request is handed over as soon as
    its head is complete, the body is neither buffered nor held to
    ``max_body_bytes``, and each read waits on the socket under the server's
    ``header_timeout`` (per pause) and ``body_timeout`` (in all). A body the handler
    does not read to its end closes the connection after the response.
    """

    __slots__ = ("_receive", "chunks", "complete")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.complete = False
        self._receive: Callable[[], Awaitable[None]] | None = None

    def attach(self, receive: Callable[[], Awaitable[None]]) -> None:
        """The server's side: ``receive()`` feeds more of the body into ``chunks``."""
        self._receive = receive

    def __aiter__(self) -> BodyStream:
        return self

    async def __anext__(self) -> bytes:
        while not self.chunks:
            if self.complete:
                raise StopAsyncIteration
            if self._receive is None:
                raise RuntimeError("this body stream is not attached to a connection")
            await self._receive()
        return self.chunks.popleft()

    async def read(self) -> bytes:
        """The rest of the body at once (for small bodies)."""
        return b"".join([chunk async for chunk in self])


class Transport:
    """What a handler may do with the connection a request arrived on."""

    # Over mutual TLS: the client's certificate as ``ssl.SSLSocket.getpeercert()``
    # gives it (``subject``, ``subjectAltName``, ...); None without one.
    peer_certificate: dict[str, Any] | None = None

    def detach(self, *, replay_head: bool = True) -> trio.abc.Stream:  # pragma: no cover
        """Take the connection over (after an ``Upgrade`` or a ``CONNECT``): the returned
        stream first replays the request head (unless ``replay_head=False``) and any
        bytes read after it; the server neither answers nor reads again, and closes
        the stream when the handler returns."""
        raise NotImplementedError


class Response:
    """What a handler answers: a status, headers and a body.

    Give ``body`` as bytes, or ``stream`` as an async iterable of byte chunks, with a
    ``content-length`` header when the length is known (else the body goes chunked to
    HTTP/1.1 clients, and until the connection closes to HTTP/1.0 ones). The server adds
    ``content-length``, ``date``, ``server`` and ``connection``.
    """

    __slots__ = ("body", "headers", "status", "stream")

    def __init__(
        self,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        stream: AsyncIterable[bytes] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.stream = stream


def _status_line(code: int) -> bytes:
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "Unknown"
    return f"HTTP/1.1 {code} {phrase}\r\n".encode("ascii")


_STATUS_LINES = {int(s): _status_line(int(s)) for s in HTTPStatus}
_date_second = 0
_date_line = b""


def _date_header() -> bytes:
    """``date: ...`` for the current second, formatted once per second."""
    global _date_second, _date_line
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_line = b"date: " + formatdate(now, usegmt=True).encode() + b"\r\nserver: geetrio\r\n"
    return _date_line


def has_control(text: str) -> bool:
    """Whether a header value holds a control character other than HTAB (CR and LF
    included): what ``render_head`` refuses, for checking one value up front."""
    data = text.encode("latin-1", "replace")
    return len(data.translate(None, _CONTROL)) != len(data)


_ONE_FIELD: dict[tuple[str, str], bytes] = {}  # a lone header field, rendered and checked
_ONE_FIELD_MAX = 256


def _fields(headers: list[tuple[str, str]]) -> bytes:
    fields = "".join([f"{name}: {value}\r\n" for name, value in headers]).encode("latin-1")
    # Each line ends in CR LF; any other control character (CR or LF that would split
    # the response, NUL, VT, FF, DEL...) is refused: HTAB alone may appear. One pass.
    if len(fields) - len(fields.translate(None, _CONTROL)) != 2 * len(headers):
        raise ValueError(
            f"a response header contains a line break or control character: {headers!r}"
        )
    return fields


def render_head(
    status: int, headers: list[tuple[str, str]], content_length: int | None, keep_alive: bool
) -> bytes:
    """Serialise a status line and headers (sans-IO). ``content_length`` None means
    the caller put ``content-length`` into ``headers`` itself, or none applies (1xx,
    204, 304). Raises ``ValueError`` for a header that would split the response."""
    status_line = _STATUS_LINES.get(status)
    if status_line is None:
        if not 100 <= status <= 999:
            raise ValueError(f"invalid status code {status}")
        status_line = _status_line(status)
    if len(headers) == 1:  # the common answer: a content type alone, rendered once
        fields = _ONE_FIELD.get(headers[0])
        if fields is None:
            fields = _fields(headers)
            if len(_ONE_FIELD) < _ONE_FIELD_MAX:
                _ONE_FIELD[headers[0]] = fields
    else:
        fields = _fields(headers)
    tail = b"\r\n" if keep_alive else b"connection: close\r\n\r\n"
    if content_length is None:
        return b"".join((status_line, _date_header(), fields, tail))
    return b"".join(
        (
            status_line,
            _date_header(),
            fields,
            b"content-length: %d\r\n" % content_length,
            tail,
        )
    )
