"""Sans-IO HTTP/1.1 request parsing on top of httptools (llhttp): the server's
``RequestParser`` (the clients' ``ResponseParser`` is its pair in ``response_parser``).

``RequestParser`` is fed bytes and hands out complete ``Request`` objects; it never
touches a socket, so it is tested and fuzzed without one. llhttp rejects malformed
syntax and request smuggling (Content-Length together with Transfer-Encoding, repeated
Content-Length, obsolete line folding); this module adds our limits, the Host rule and
the decoding of the request target. Every failure is a ``ProtocolError`` carrying the
status to answer before closing.
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Callable

import httptools

from ._config import ServerConfig
from ._errors import ProtocolError
from ._message import BodyStream, Request
from ._target import decode_path, split_target

__all__ = ["ParseState", "RequestParser"]

_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")}
_CHECKED_HEADERS = frozenset({b"host", b"content-length", b"expect", b"transfer-encoding"})
# Go's net/rpc and GeeRPC clients open their tunnel with a head of bare LFs:
# "CONNECT /_geeprc_ HTTP/1.0\n\n". llhttp (strict) refuses bare LF, and rightly for any
# other request. This one exact shape — a CONNECT with no header fields at all, whole in
# one feed at the start of a connection's next message — is parsed again with CRLF once
# llhttp refused it: with no fields there is no framing to smuggle, and everything after
# it is the tunnel's. Nothing is checked on the common path.
_GO_CONNECT = re.compile(rb"CONNECT /[!-~]* HTTP/1\.[01]\n\n")


class ParseState(enum.Enum):
    """Where a ``RequestParser`` is. Transitions: ``IDLE`` → ``HEAD`` (a request's first
    byte) → ``BODY`` (its head complete) → ``IDLE`` (complete); ``UPGRADED`` after an
    Upgrade/CONNECT request (``resume()`` → ``IDLE``); ``DONE`` once it failed or was
    closed, for good."""

    IDLE = "idle"  # between requests: nothing of the next one buffered
    HEAD = "head"  # a request's head (request line and headers) is incomplete
    BODY = "body"  # its head is complete, its body is not
    UPGRADED = "upgraded"  # it stopped after an Upgrade/CONNECT request
    DONE = "done"  # failed or closed: it takes no more bytes


IDLE, HEAD, BODY, UPGRADED, DONE = ParseState


class RequestParser:
    """Feed bytes with ``feed()``; take finished requests with ``next_request()``.

    Pipelined requests come out in order. ``state`` (a ``ParseState``, read-only) says
    where it is; ``in_progress`` (``HEAD`` or ``BODY``), ``in_head`` and ``upgraded``
    say the same as booleans. ``expects_continue``: the request asked for
    ``100 Continue`` and its body has not come. After an upgrade (or CONNECT)
    ``trailing_data`` holds the bytes that followed its head; when the handler does not
    take the connection, ``resume()`` goes on parsing them (``Upgrade:`` requests; after
    a CONNECT there is no way back).

    Each request's body belongs to its ``Request`` alone: the parser lets go of it as
    soon as the request is complete. ``close()`` drops the llhttp parser, which refers
    back to this object, so a closed connection's memory is freed at once by
    reference counting instead of waiting for the cyclic garbage collector.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        stream_body: Callable[[Request], bool] | None = None,
    ) -> None:
        config = config or ServerConfig()
        # Asked, for each request with a body once its head is complete, whether its
        # handler streams the body (``Request.body_stream``) instead of getting it whole.
        self._stream_body = stream_body
        self._streaming: Request | None = None  # the request whose body is streamed
        self._content_length = 0
        self._max_header = config.max_header_bytes
        self._max_uri = config.max_uri_bytes
        self._max_body = config.max_body_bytes
        self._parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        self._ready: deque[Request] = deque()
        self.state = IDLE
        self.error: ProtocolError | None = None  # malformed bytes after whole requests
        self.trailing_data = b""
        self.expects_continue = False
        self._began_in_this_feed = False
        # Per-request state, reset by on_message_begin.
        self._url: list[bytes] = []
        self._url_len = 0
        self._headers: list[tuple[str, str]] = []
        self._head_len = 0
        self._unparsed_head = 0
        self._body: list[bytes] = []
        self._body_len = 0
        self._has_host = False
        self._expect_continue = False
        self._version = "1.1"
        self._connect = False
        self._declared_body = False
        self._trailers: list[tuple[str, str]] | None = None
        # Bytes fed inside a body with no parsing progress (no body byte, chunk or
        # trailer field): an endless chunk-size line or trailer line is bounded by it.
        # A callback that made progress sets it to -1; the feed then counts afresh.
        # (One attribute for both: past 30 instance attributes CPython stops sharing
        # the keys of the instances' dicts, and every attribute access gets slower.)
        self._unparsed_tail = 0

    # ------------------------------------------------------------------ public API

    @property
    def in_progress(self) -> bool:
        """Bytes of an unfinished request are buffered (``HEAD`` or ``BODY``)."""
        return self.state is HEAD or self.state is BODY

    @property
    def in_head(self) -> bool:
        return self.state is HEAD

    @property
    def upgraded(self) -> bool:
        return self.state is UPGRADED

    def feed(self, data: bytes | bytearray) -> None:
        """Parse ``data``; raise ``ProtocolError`` on malformed input or a broken limit
        (the parser is unusable afterwards). When whole requests came before the bad
        bytes, the error waits in ``error`` instead, for after their answers (RFC 9112
        §9.3: pipelined requests are answered in order)."""
        parser = self._parser
        if parser is None or self.state is UPGRADED:
            raise RuntimeError("the parser was upgraded or closed; it takes no more bytes")
        fresh = self.state is IDLE  # no request of ours was begun before these bytes
        self._began_in_this_feed = False
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.state = UPGRADED
            self.trailing_data = bytes(data[exc.args[0] :])
            return
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, ProtocolError):
                self._fail(exc.__context__)
                return
            raise  # a bug of ours, not the peer's
        except httptools.HttpParserError as exc:
            if fresh and not self._ready and _GO_CONNECT.match(data) is not None:
                self._feed_go_connect(data)
                return
            if str(exc) == "Invalid HTTP version":
                self._fail(ProtocolError(505, "only HTTP/1.0 and HTTP/1.1 are supported"))
            else:
                self._fail(ProtocolError(400, f"malformed request: {exc}"))
            return
        state = self.state
        if state is HEAD and not self._began_in_this_feed:
            # llhttp buffers a header name or value it has not finished: count every
            # byte fed while the head is open so one endless header cannot grow memory.
            self._unparsed_head += len(data)
            if self._unparsed_head > self._max_header:
                self._fail(ProtocolError(431, "request header fields too large"))
        elif state is BODY:
            # The same inside a body: bytes that made no progress are a chunk-size line,
            # a chunk extension or a trailer line llhttp is still buffering.
            if self._unparsed_tail < 0:  # progress in this feed
                self._unparsed_tail = 0
            else:
                self._unparsed_tail += len(data)
                if self._unparsed_tail > self._max_header:
                    self._fail(ProtocolError(431, "a chunk-size or trailer line too large"))

    def _fail(self, error: ProtocolError) -> None:
        """Raise ``error``, or keep it in ``error`` when whole requests wait to be
        answered first (not for a streamed body's own error); the parser is done."""
        self.state = DONE
        self._parser = None
        if not self._ready or self._streaming is not None:
            raise error
        self.error = error

    def _feed_go_connect(self, data: bytes | bytearray) -> None:
        """Go's ``CONNECT /path HTTP/1.0\\n\\n`` (see ``_GO_CONNECT``), which llhttp
        refused: parse it again, from a new llhttp parser, with CRLF line ends."""
        match = _GO_CONNECT.match(data)
        assert match is not None
        end = match.end()
        self._parser = httptools.HttpRequestParser(self)
        self.state = IDLE
        self.feed(bytes(data[: end - 2]) + b"\r\n\r\n" + data[end:])

    @property
    def stalled(self) -> bool:
        """Inside a body, bytes came that made no progress (no body byte, chunk or
        trailer field): a chunk-size or trailer line still arriving."""
        return self._unparsed_tail > 0

    def next_request(self) -> Request | None:
        """The oldest finished request, or None until more bytes arrive."""
        return self._ready.popleft() if self._ready else None

    def has_request(self) -> bool:
        """Whether a finished request is waiting for ``next_request()``."""
        return bool(self._ready)

    def resume(self) -> bool:
        """After an ``Upgrade:`` request the handler answered without taking the
        connection: parse the bytes that followed it as the next requests. False (and
        nothing done) when there is no way back: after a CONNECT, or an upgrade request
        with a body (llhttp hands its body over as the new protocol's bytes)."""
        if self.state is not UPGRADED:
            raise RuntimeError("only an upgraded parser can resume")
        if self._connect or self._declared_body:
            return False
        data, self.trailing_data = self.trailing_data, b""
        self.state = IDLE
        self._parser = httptools.HttpRequestParser(self)
        if data:
            self.feed(data)
        return True

    def close(self) -> None:
        """Let go of everything: no more bytes are taken."""
        self.state = DONE
        self._parser = None
        self._ready.clear()
        self._body = []
        self.trailing_data = b""

    # ----------------------------------------------------- httptools callbacks

    def on_message_begin(self) -> None:
        self._url = []
        self._url_len = 0
        self._headers = []
        self._head_len = 0
        self._unparsed_head = 0
        self._body = []
        self._body_len = 0
        self._has_host = False
        self._expect_continue = False
        self._declared_body = False
        self._trailers = None
        self._unparsed_tail = 0
        self.state = HEAD
        self._began_in_this_feed = True

    def on_url(self, url: bytes) -> None:
        self._url.append(url)
        self._url_len += len(url)
        if self._url_len > self._max_uri:
            raise ProtocolError(414, "request URI too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_len += len(name) + len(value) + 4
        if self._head_len + self._url_len > self._max_header:
            raise ProtocolError(431, "request header fields too large")
        if self.state is not HEAD:  # a trailer field: kept apart, never a header field
            self._unparsed_tail = -1
            field = (name.decode("latin-1"), value.decode("latin-1"))
            if self._trailers is None:
                self._trailers = []
            self._trailers.append(field)
            return
        lower = name.lower()
        if lower in _CHECKED_HEADERS:
            self._check_header(lower, value)
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def _check_header(self, lower: bytes, value: bytes) -> None:
        if lower == b"host":
            if self._has_host:
                raise ProtocolError(400, "more than one Host header")
            self._has_host = True
        elif lower == b"content-length":
            if not value.isdigit():  # llhttp checks this too; be sure before int()
                raise ProtocolError(400, "malformed Content-Length")
            length = self._content_length = int(value)
            if length > self._max_body and self._stream_body is None:
                raise ProtocolError(413, "request body too large")
            self._declared_body = length > 0
        elif lower == b"transfer-encoding":
            # llhttp accepts "gzip, chunked" and hands over the still-coded body
            codings = [c.strip() for c in value.lower().split(b",")]
            if codings[-1] != b"chunked":  # RFC 9112 6.3: the length is unknowable
                raise ProtocolError(400, "chunked must be the final transfer coding")
            if len(codings) > 1:
                raise ProtocolError(501, "only the chunked transfer coding is supported")
            self._declared_body = True
        elif value.lower() != b"100-continue":  # Expect
            raise ProtocolError(417, "only 'Expect: 100-continue' is supported")
        else:
            self._expect_continue = True

    def on_headers_complete(self) -> None:
        self.state = BODY
        assert self._parser is not None
        version = self._version = self._parser.get_http_version()
        if version == "1.1":
            if not self._has_host:
                raise ProtocolError(400, "HTTP/1.1 request without a Host header")
            self.expects_continue = self._expect_continue
        elif version != "1.0":
            raise ProtocolError(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        if self._stream_body is not None and self._declared_body:
            self._decide_streaming()

    def _decide_streaming(self) -> None:
        """The head of a request with a body is complete: hand it out now if its
        handler streams the body; else hold it to the body limit."""
        assert self._parser is not None
        if not self._parser.should_upgrade():
            request = self._build_request(b"")
            if self._stream_body is not None and self._stream_body(request):
                request.body_stream = BodyStream()
                self._streaming = request
                self._ready.append(request)
                return
        if self._content_length > self._max_body:
            raise ProtocolError(413, "request body too large")

    def on_chunk_header(self) -> None:
        self._unparsed_tail = -1

    def on_chunk_complete(self) -> None:
        self._unparsed_tail = -1

    def on_body(self, body: bytes) -> None:
        self._unparsed_tail = -1
        streaming = self._streaming
        if streaming is not None:  # the handler reads it as it comes: no limit, no buffer
            streaming.body_stream.chunks.append(body)  # type: ignore[union-attr]
            return
        self._body_len += len(body)
        if self._body_len > self._max_body:
            raise ProtocolError(413, "request body too large")
        self._body.append(body)

    def on_message_complete(self) -> None:
        streamed = self._streaming
        if streamed is not None:
            assert streamed.body_stream is not None
            streamed.body_stream.complete = True
            self._streaming = None
            if self._trailers is not None:
                streamed.trailers = self._trailers
        else:
            body = self._body
            self._body = []  # the Request owns it now: gone when the request is
            request = self._build_request(
                (body[0] if len(body) == 1 else b"".join(body)) if body else b""
            )
            if self._trailers is not None:
                request.trailers = self._trailers
            self._ready.append(request)
        self.state = IDLE
        self.expects_continue = False

    def _build_request(self, body: bytes) -> Request:
        parser = self._parser
        assert parser is not None
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        url = self._url
        target = (url[0] if len(url) == 1 else b"".join(url)).decode("latin-1")
        if "#" in target:  # clients must not send a fragment; it is not the resource's
            target = target.partition("#")[0] or "/"
        if target[0] == "/":
            raw_path, _, query = target.partition("?")
        else:
            raw_path, query = split_target(target)
        upgrade = parser.should_upgrade()
        self._connect = connect = raw_method == b"CONNECT"
        return Request(
            method,
            target,
            raw_path if raw_path.isascii() and "%" not in raw_path else decode_path(raw_path),
            query,
            self._headers,
            body,
            self._version,
            parser.should_keep_alive() and not (upgrade and (connect or self._declared_body)),
            upgrade,
        )
