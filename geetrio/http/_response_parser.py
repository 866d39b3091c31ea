"""Sans-IO parsing of HTTP/1.1 responses on top of httptools (llhttp): the clients'
``ResponseParser`` (the server's ``RequestParser`` is in ``parser``), fed bytes, never
touching a socket. A hostile server cannot grow the client's memory past the head and
body limits; every failure is a ``ClientError``."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import httptools

from ._errors import ClientError
from ._headers import Headers

__all__ = ["MAX_RESPONSE_BODY", "MAX_RESPONSE_HEAD", "ClientResponse", "ResponseParser"]

MAX_RESPONSE_HEAD = 65536
MAX_RESPONSE_BODY = 64 * 1024 * 1024


@dataclass
class ClientResponse:
    status: int
    raw_headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool = True
    _headers: Headers | None = field(default=None, repr=False)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self.raw_headers)
        return self._headers


class _HeadDone(Exception):
    """Raised inside httptools to stop after the head of a HEAD response."""


class ResponseParser:
    """Sans-IO: feed the bytes of one response (after any 1xx), then ``eof()`` if the
    connection ended; ``response`` is set once it is complete.

    ``head=True`` for responses to HEAD, whose length headers announce no body. With
    ``pipelined=True`` one parser reads many responses in a row (no HEAD then): take
    the finished ones with ``pop_responses()``. With ``streaming=True`` the body is not
    kept: ``head`` is set (status, headers, empty body) once the head is in, each piece
    of body waits in ``take_body()`` (``max_body`` then bounds what is not taken yet), and
    ``finished`` says the body ended (a streamed body never sets ``response``).
    Raises ``ClientError`` for malformed responses, a head over ``max_head`` bytes or a
    body over ``max_body``: a hostile server cannot grow the client's memory past those.
    """

    def __init__(
        self,
        *,
        head: bool = False,
        max_body: int = MAX_RESPONSE_BODY,
        max_head: int = MAX_RESPONSE_HEAD,
        pipelined: bool = False,
        streaming: bool = False,
    ) -> None:
        self._parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self._streaming = streaming
        self.head: ClientResponse | None = None  # streaming: the response without its body
        self.finished = False  # streaming: the body has ended
        self._max_body = max_body
        self._max_head = max_head
        self._pipelined = pipelined
        self._done: deque[ClientResponse] = deque()
        self._headers: list[tuple[str, str]] = []
        self._head_len = 0
        self._in_head = True
        self._body: list[bytes] = []
        self._body_len = 0
        self._framed = False  # Content-Length or chunked: the body's end is known
        self._keep_alive = False
        self._started = False  # a response's first byte has come
        self._began_in_this_feed = False
        self.next_response(head=head)

    def next_response(self, *, head: bool = False) -> None:
        """Get ready for the next response on the same connection (keep-alive)."""
        self._head = head
        self._headers_done = False
        self.response: ClientResponse | None = None

    def pop_responses(self) -> list[ClientResponse]:
        """``pipelined=True``: the responses completed so far, oldest first."""
        done = list(self._done)
        self._done.clear()
        return done

    def take_body(self) -> bytes:
        """``streaming=True``: the body received since the last call (maybe empty)."""
        body, self._body, self._body_len = self._body, [], 0
        return body[0] if len(body) == 1 else b"".join(body)

    def close(self) -> None:
        """Drop the llhttp parser (it refers back to this object): no more bytes."""
        self._parser = None
        self._body = []

    def feed(self, data: bytes | bytearray) -> None:
        parser = self._parser
        if parser is None:
            raise ClientError("the response parser is closed")
        self._began_in_this_feed = False
        try:
            parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadDone):
                return
            if isinstance(exc.__context__, ClientError):
                raise exc.__context__ from None
            raise
        except httptools.HttpParserError as exc:
            raise ClientError(f"malformed HTTP response: {exc}") from None
        if self._in_head and self._started and not self._began_in_this_feed:
            # llhttp buffers an unfinished header itself: count what we fed it.
            self._head_len += len(data)
            if self._head_len > self._max_head:
                raise ClientError(f"response head over {self._max_head} bytes")

    def eof(self) -> None:
        """The peer closed: completes a close-delimited body, else it is an error
        (except between two responses of a pipelined connection)."""
        if self.response is not None:
            return
        if self._started and self._headers_done and not self._framed:
            self._finish(keep_alive=False)
            return
        if self._pipelined and not self._started:
            return
        raise ClientError("connection closed before the response was complete")

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers, self._body, self._body_len = [], [], 0
        self._head_len = 0
        self._in_head = self._started = self._began_in_this_feed = True
        self._framed = False
        self._headers_done = False

    def on_status(self, status: bytes) -> None:
        self._head_len += len(status)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_len += len(name) + len(value) + 4
        if self._head_len > self._max_head:
            raise ClientError(f"response head over {self._max_head} bytes")
        lower = name.lower()
        if lower == b"content-length" or (
            lower == b"transfer-encoding" and value.lower() == b"chunked"
        ):
            self._framed = True
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if status < 200:
            return  # an interim response: the real one follows
        self._in_head = False
        self._headers_done = True
        self._keep_alive = self._parser.should_keep_alive()
        if status in (204, 304):
            self._framed = True
        if self._head:
            self._finish(self._keep_alive)
            raise _HeadDone
        if self._streaming:
            self.head = ClientResponse(status, self._headers, b"", False)

    def on_body(self, body: bytes) -> None:
        self._body_len += len(body)
        if self._body_len > self._max_body:
            raise ClientError(f"response body over {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        assert self._parser is not None
        if self._streaming:
            self.finished = self._parser.get_status_code() >= 200
            return
        if self._parser.get_status_code() >= 200 and (self.response is None or self._pipelined):
            self._finish(self._keep_alive)
        self._in_head = True
        self._started = False
        self._head_len = 0

    def _finish(self, keep_alive: bool) -> None:
        assert self._parser is not None
        body = self._body
        self._body = []
        response = ClientResponse(
            self._parser.get_status_code(),
            self._headers,
            body[0] if len(body) == 1 else b"".join(body),
            keep_alive,
        )
        if self._pipelined:
            self._done.append(response)
        else:
            self.response = response
