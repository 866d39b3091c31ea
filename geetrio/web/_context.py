"""``Context``: one request's view of the request, its response, and its chain."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import trio

from ..http import Request, Response
from ..http._message import has_control
from ._cookies import Session, set_cookie_header
from ._errors import HTTPException
from ._json import dump_json as _dump_json
from ._request_view import EngineSettings, RequestView
from ._sse import ServerSentEvent, event_stream


class Recorder(Protocol):
    """What records a request's outcome (``_metrics.Cells``)."""

    def record(self, status: int, seconds: float) -> None: ...


SESSION_KEY = "geetrio.session"  # where web.sessions() leaves c.session
CLIENT_IP_KEY = "geetrio.client_ip"  # where web.trusted_proxies() leaves the client's address
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HandlerFunc = Callable[["Context"], Awaitable[None]]
"""A handler or middleware: ``async def handler(c: Context) -> None``."""


class Renderer(EngineSettings, Protocol):
    """What a context needs of its engine: templates, settings (``Engine`` is one)."""

    def render(self, name: str, data: Mapping[str, Any]) -> bytes: ...


__all__ = ["Context"]


_ABORTED = 1 << 30
CLOSE_TIMEOUT = 2.0  # seconds closing replaced response streams may take


_clock = time.perf_counter
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_TEXT = "text/plain; charset=utf-8"


class Context(RequestView):
    """What a handler gets: the request, the response it builds, and the chain.

    Response helpers (``string``, ``json``, ``data``, ``html``, ``fail``, ``status``,
    ``set_header``) only record the response; the server sends it after the chain
    returns, so a later helper replaces what an earlier one set.
    ``await c.next()`` runs the rest of the chain and then returns to the caller
    (code after it runs on the way out); ``c.fail()``/``c.abort()`` stop the
    handlers not yet started, while the current function carries on.
    """

    # Rarely used state starts as class attributes so a request pays only for what
    # it touches.
    _keys: dict[str, Any] | None = None
    _stream: AsyncIterable[bytes] | None = None
    detached = False

    engine: Renderer

    def __init__(
        self,
        request: Request,
        engine: Renderer,
        handlers: tuple[HandlerFunc, ...],
        params: dict[str, str],
        cells: Recorder | None = None,
    ) -> None:
        self.cells = cells  # the route's metric cells (``app.enable_metrics()``)
        self.request = request
        self.engine = engine
        self.params = params
        self.status_code = 200
        self.response_headers: list[tuple[str, str]] = []
        self.response_body = b""
        self._handlers = handlers
        self._index = -1

    async def run(self) -> Response | None:
        """Run the chain from its start (the engine does, once per request) and build
        the response; None when a handler took the connection over (``detach``).
        Streams a later helper replaced are closed; if the chain raises (``Cancelled``
        included), every stream it set is closed too, since no response goes out."""
        self._index = 0
        handlers = self._handlers
        cells = self.cells
        if cells is not None:
            started = _clock()
        try:
            try:
                await handlers[0](self)
            except HTTPException as exc:
                self._answer(exc)
            if self._index == 0 and len(handlers) > 1:  # a middleware returned without next()
                await self.next()
        except BaseException as exc:
            if cells is not None and isinstance(exc, Exception):  # answered 500
                cells.record(500, _clock() - started)
            await self.close_dropped(all_streams=True)
            raise
        if cells is not None:
            cells.record(self.status_code, _clock() - started)
        if self._dropped is not None:
            await self.close_dropped()
        if self.detached:
            return None
        return self.to_response()

    def detach(self, *, replay_head: bool = True, status: int = 0) -> trio.abc.Stream:
        """Take the connection over (an ``Upgrade`` or a ``CONNECT``): the stream, which
        first replays the request head unless ``replay_head=False``; no response is sent
        for this request. ``status`` is what logs show for it (101 for a WebSocket)."""
        transport = self.request.transport
        if transport is None:
            raise RuntimeError("this request came without a connection to take over")
        stream = transport.detach(replay_head=replay_head)
        self.detached = True
        if status:
            self.status_code = status
        return stream

    # ------------------------------------------------------------------ request

    def client_ip(self) -> str:
        """The peer's address, or what ``web.trusted_proxies`` found (gin's ``ClientIP``)."""
        found = self.get(CLIENT_IP_KEY)
        if found is not None:
            return str(found)
        return self.request.remote_addr.rsplit(":", 1)[0].strip("[]")

    @property
    def session(self) -> Session:
        """This client's session (a dict saved in a signed cookie): needs
        ``app.use(web.sessions(keys))``."""
        session = self.get(SESSION_KEY)
        if session is None:
            raise RuntimeError("no session here: install the middleware web.sessions(keys)")
        return session  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ response

    def set_cookie(self, name: str, value: str, **attributes: Any) -> None:
        """Add a ``Set-Cookie`` (gin's ``SetCookie``): ``max_age``, ``expires``, ``path``
        ("/"), ``domain``, ``secure``, ``http_only`` (True), ``same_site`` ("Lax"),
        ``partitioned``. ``ValueError`` for a name or value a browser would misread."""
        self.add_header("Set-Cookie", set_cookie_header(name, value, **attributes))

    def delete_cookie(
        self, name: str, *, path: str | None = "/", domain: str | None = None
    ) -> None:
        """Tell the browser to drop a cookie (same ``path`` and ``domain`` as set)."""
        self.set_cookie(name, "", max_age=0, expires=_EPOCH, path=path, domain=domain)

    def status(self, code: int) -> None:
        if not 100 <= code <= 999:
            raise ValueError(f"invalid HTTP status code {code}")
        self.status_code = code

    def set_header(self, key: str, value: str) -> None:
        """Set a response header, replacing any earlier value of that name."""
        _check_header(key, value)
        lower = key.lower()
        headers = [(k, v) for k, v in self.response_headers if k.lower() != lower]
        headers.append((key, value))
        self.response_headers = headers

    def add_header(self, key: str, value: str) -> None:
        """Add a response header, keeping earlier ones (``Set-Cookie``)."""
        _check_header(key, value)
        self.response_headers.append((key, value))

    def _write(self, code: int, content_type: str | None, body: bytes) -> None:
        self.status(code)
        if content_type is not None:
            headers = self.response_headers
            if headers:
                self.response_headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            self.response_headers.append(("content-type", content_type))
        self.response_body = body
        if self._stream is not None:
            self._drop_stream()

    def _drop_stream(self) -> None:
        """A later answer replaces a streamed one: its stream (an open file) is closed
        once the chain returns (``close_dropped``)."""
        if self._dropped is None:
            self._dropped = []
        assert self._stream is not None
        self._dropped.append(self._stream)
        self._stream = None

    async def close_dropped(self, *, all_streams: bool = False) -> None:
        """``aclose()`` the streams replaced by later answers and the forms parsed (and
        with ``all_streams`` the current stream too: the response will not be sent).
        Shielded and bounded: cancelled, it still closes them (within 1 s) before
        ``Cancelled`` goes on."""
        streams = self._dropped or []
        if all_streams and self._stream is not None:
            streams.append(self._stream)
            self._stream = None
        self._dropped = None
        with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
            for stream in streams:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()

    def string(self, code: int, fmt: str, *values: object) -> None:
        """Answer ``text/plain``: ``fmt % values`` with values, else ``fmt`` as is."""
        self._write(code, _TEXT, (fmt % values if values else fmt).encode())

    def json(self, code: int, obj: object) -> None:
        """Answer ``application/json`` (compact, UTF-8; NaN and infinity refused)."""
        self._write(code, "application/json", _dump_json(obj).encode())

    def data(self, code: int, body: bytes) -> None:
        """Answer raw bytes (set a content type with ``set_header`` if you know it)."""
        self._write(code, None, bytes(body))

    def html(self, code: int, name: str, data: Mapping[str, Any] | None = None) -> None:
        """Render the template ``name`` (from ``load_html_glob``) with ``data``."""
        self._write(code, "text/html; charset=utf-8", self.engine.render(name, data or {}))

    def stream(
        self, code: int, chunks: AsyncIterable[bytes], content_length: int | None = None
    ) -> None:
        """Answer a body produced chunk by chunk: with ``content_length`` when known
        (files), else chunked. The server calls ``aclose()`` on ``chunks`` when it has
        one — also at once when the client goes away meanwhile."""
        self._write(code, None, b"")
        if content_length is not None:
            self.set_header("content-length", str(content_length))
        self._stream = chunks

    def sse(
        self,
        source: AsyncIterable[ServerSentEvent | str] | trio.abc.ReceiveChannel[Any],
        *,
        ping: float | None = 15.0,
    ) -> None:
        """Answer Server-Sent Events from ``source`` (``web.ServerSentEvent`` or ``str``
        data); from a receive channel, a ``: ping`` comment after ``ping`` quiet seconds."""
        self.stream(200, event_stream(source, ping))
        self.set_header("content-type", "text/event-stream; charset=utf-8")
        self.set_header("cache-control", "no-cache")
        self.set_header("x-accel-buffering", "no")  # nginx: pass events through at once

    def redirect(self, code: int, location: str) -> None:
        if not 300 <= code <= 399:
            raise ValueError(f"redirect needs a 3xx status, got {code}")
        self.set_header("location", location)
        self._write(code, None, b"")

    def fail(self, code: int, message: str) -> None:
        """Answer JSON ``{"message": message}`` and stop the handlers not yet run."""
        self._index = _ABORTED
        self.json(code, {"message": message})

    def abort(self) -> None:
        """Stop the handlers not yet run; the current function carries on."""
        self._index = _ABORTED

    @property
    def aborted(self) -> bool:
        return self._index >= _ABORTED

    # ------------------------------------------------------------------ chain

    async def next(self) -> None:
        """Run the rest of the chain, then return here. Cancelled: the handler running
        gets ``Cancelled``; the rest of the chain does not run."""
        self._index += 1
        handlers = self._handlers
        while self._index < len(handlers):
            try:
                await handlers[self._index](self)
            except HTTPException as exc:
                self._answer(exc)
            self._index += 1

    def _answer(self, error: HTTPException) -> None:
        """A handler raised ``error``: its answer replaces the handler's, and the
        handlers not yet run do not run."""
        self._index = _ABORTED
        self.json(error.status, error.body())

    def set(self, key: str, value: Any) -> None:
        """Store a value for the rest of this request's chain."""
        if self._keys is None:
            self._keys = {}
        self._keys[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return default if self._keys is None else self._keys.get(key, default)

    @property
    def response_stream(self) -> AsyncIterable[bytes] | None:
        """The streamed body set so far (``stream``, ``sse``), else None."""
        return self._stream

    def replace_stream(self, chunks: AsyncIterable[bytes]) -> None:
        """Stream ``chunks`` instead (a middleware wrapping the body, as gzip does)."""
        self._stream = chunks
        headers = self.response_headers
        self.response_headers = [(k, v) for k, v in headers if k.lower() != "content-length"]

    def to_response(self) -> Response:
        return Response(self.status_code, self.response_headers, self.response_body, self._stream)

    def reset_response(self) -> None:
        """Forget the response built so far (recovery does this before its 500)."""
        self.status_code = 200
        self.response_headers = []
        self.response_body = b""
        if self._stream is not None:
            self._drop_stream()


def _check_header(key: str, value: str) -> None:
    if not _TOKEN.match(key):
        raise ValueError(f"invalid header name {key!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {key!r} value contains a line break")
    if has_control(value):
        raise ValueError(f"header {key!r} value contains a control character (only HTAB may)")
