"""``RequestView``: the request side of ``Context`` — path, headers, body, query, form,
cookies, and binding them into dataclasses (``bind``, ``bind_query``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar
from urllib.parse import parse_qs

from .._core import convert
from ..http import Headers, Request
from ._cookies import parse_cookies
from ._errors import BindError, HTTPError

__all__ = ["RequestView"]

T = TypeVar("T")

_FORM = "application/x-www-form-urlencoded"


class RequestView:
    """What a handler reads of the request (``Context`` is one)."""

    request: Request
    params: dict[str, str]
    # Rarely used state starts as class attributes so a request pays only for what
    # it touches.
    _query: dict[str, list[str]] | None = None
    _form: dict[str, list[str]] | None = None
    _cookies: dict[str, str] | None = None

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        """The percent-decoded path, without the query string."""
        return self.request.path

    @property
    def headers(self) -> Headers:
        """Request headers; lookups ignore case."""
        return self.request.headers

    @property
    def trailers(self) -> Headers:
        """Trailer fields of a chunked request body (lookups ignore case): kept apart
        from ``headers``, since a proxy that filtered the headers may not have seen them."""
        return Headers(self.request.trailers)

    @property
    def body(self) -> bytes:
        """The whole request body. Routes registered with ``stream_body=True`` read it
        with ``c.stream_body()`` instead (this raises ``RuntimeError`` there)."""
        if self.request.body_stream is not None:
            raise RuntimeError(
                "this route streams its body: use `async for chunk in c.stream_body()`"
            )
        return self.request.body

    def stream_body(self) -> AsyncIterator[bytes]:
        """The request body chunk by chunk as it arrives (``stream_body=True`` routes);
        on other routes, the buffered body as one chunk."""
        if self.request.body_stream is not None:
            return self.request.body_stream
        return _one_chunk(self.request.body)

    @property
    def remote_addr(self) -> str:
        return self.request.remote_addr

    @property
    def peer_certificate(self) -> dict[str, Any] | None:
        """The client's certificate over mutual TLS (``Request.peer_certificate``)."""
        return self.request.peer_certificate

    def param(self, key: str) -> str:
        """A path parameter (``:name`` or ``*name``); "" when absent."""
        return self.params.get(key, "")

    def query(self, key: str, default: str = "") -> str:
        """The first value of ``key`` in the query string."""
        if self._query is None:
            self._query = parse_qs(self.request.query_string, keep_blank_values=True)
        values = self._query.get(key)
        return values[0] if values else default

    def post_form(self, key: str, default: str = "") -> str:
        """The first value of ``key`` in an ``application/x-www-form-urlencoded`` body."""
        if self._form is None:
            if self.content_type == _FORM:
                self._form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            else:
                self._form = {}
        values = self._form.get(key)
        return values[0] if values else default

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies (its ``Cookie`` headers, read leniently as browsers do)."""
        if self._cookies is None:
            header = "; ".join(self.request.headers.getlist("cookie"))
            self._cookies = parse_cookies(header) if header else {}
        return self._cookies

    def cookie(self, name: str, default: str = "") -> str:
        """A cookie's value (gin's ``Cookie``); ``default`` when the request has none."""
        return self.cookies.get(name, default)

    @property
    def last_event_id(self) -> str:
        """The ``Last-Event-ID`` of a reconnecting ``EventSource`` ("" on a first visit)."""
        return self.request.headers.get("last-event-id", "")

    # ------------------------------------------------------------------ binding

    @property
    def content_type(self) -> str:
        """The request's media type, lower case, without parameters ("" when none)."""
        return self.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    async def bind(self, model: type[T]) -> T:
        """The body as a ``model`` (a dataclass: nested, lists, optionals), read by its
        content type: JSON, or a url-encoded form (gin's ``ShouldBind``). A body that
        does not fit raises ``web.BindError``, which answers 400 with a JSON list of
        every bad field's path — unless the handler catches it; another content type
        answers 415. ``__post_init__`` raising ``ValueError`` is a bad field too.
        Cancellation: none of its own (the body is already read)."""
        kind = self.content_type
        if kind == "application/json" or kind.endswith("+json"):
            try:
                return convert.decode_json(self.body, model)  # type: ignore[no-any-return]
            except convert.ConversionError as exc:
                raise BindError(exc.problems) from None
        if kind == _FORM:
            self.post_form("")  # parses the form once
            return _from_strings(self._form or {}, model)
        raise HTTPError(415, f"cannot bind a body of type {kind or 'none'!r}")

    def bind_query(self, model: type[T]) -> T:
        """The query string as a ``model`` (a dataclass): scalars take the first value,
        ``list[...]`` fields every value of ``name`` (or ``name[]``), a nested dataclass
        the keys ``name.field``; an empty value counts as absent. ``web.BindError``
        (400) names every bad field."""
        self.query("")  # parses the query string once
        return _from_strings(self._query or {}, model)


def _from_strings(values: dict[str, list[str]], model: type[T]) -> T:
    try:
        return convert.from_strings(values, model)  # type: ignore[no-any-return]
    except convert.ConversionError as exc:
        raise BindError(exc.problems) from None


async def _one_chunk(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body
