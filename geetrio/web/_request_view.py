"""``RequestView``: the request side of ``Context`` — path, headers, body, query, form,
cookies, and binding them into dataclasses (``bind``, ``bind_query``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

from .._core import convert
from ..http import Headers, Request
from ._cookies import parse_cookies
from ._errors import BindError, HTTPException
from ._multipart import FormData, FormLimits, read_multipart
from ._upload import UploadFile

__all__ = ["RequestView"]

T = TypeVar("T")

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class EngineSettings(Protocol):
    """What the request side needs of the engine."""

    form_limits: FormLimits


class RequestView:
    """What a handler reads of the request (``Context`` is one)."""

    request: Request
    params: dict[str, str]
    engine: EngineSettings
    # Rarely used state starts as class attributes so a request pays only for what
    # it touches.
    _query: dict[str, list[str]] | None = None
    _form: dict[str, list[str]] | None = None
    _cookies: dict[str, str] | None = None
    _form_data: FormData | None = None
    # replaced response streams and parsed forms: aclose()d when the chain ends
    _dropped: list[Any] | None = None

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
        """The first value of ``key`` in an ``application/x-www-form-urlencoded`` body
        (in a multipart one too, once ``await c.form()`` parsed it)."""
        if self._form is None:
            if self.content_type == _FORM:
                self._form = _parse_form(self.body, self.engine.form_limits.max_parts)
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
        content type: JSON, a url-encoded or a multipart form (gin's ``ShouldBind``).
        A body that does not fit raises ``web.BindError``, which answers 400 with a JSON
        list of every bad field's path — unless the handler catches it; another content
        type answers 415. ``__post_init__`` raising ``ValueError`` is a bad field too.
        Cancellation: only a multipart form waits (as ``form`` does)."""
        kind = self.content_type
        if kind == "application/json" or kind.endswith("+json"):
            try:
                return convert.decode_json(self.body, model)  # type: ignore[no-any-return]
            except convert.ConversionError as exc:
                raise BindError(exc.problems) from None
        if kind in (_FORM, _MULTIPART):
            return _from_strings((await self.form()).fields, model)
        raise HTTPException(415, f"cannot bind a body of type {kind or 'none'!r}")

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The form: a ``multipart/form-data`` body parsed as it streams in (files in
        ``.files`` as ``UploadFile``, spooled to disk past ``limits.spool_bytes``), or a
        url-encoded one (``.fields`` only). Parsed once; ``post_form`` then reads its
        fields too. Limits (``Engine.form_limits`` unless given): ``HTTPException`` 413 or
        400 naming what is wrong — as is a malformed body. The uploads are closed when
        the request's chain ends: save or read them before. Cancellation: the uploads
        made so far are closed and ``Cancelled`` goes on."""
        if self._form_data is None:
            kind = self.content_type
            if kind == _MULTIPART:
                content_type = self.request.headers.get("content-type", "")
                chosen = limits or self.engine.form_limits
                stream = self.request.body_stream
                body = stream if stream is not None else self.request.body
                form = await read_multipart(content_type, body, chosen)
                if self._dropped is None:
                    self._dropped = []
                self._dropped.append(form)
            else:
                self.post_form("")  # url-encoded (or no form: empty)
                form = FormData(fields=self._form or {})
            self._form_data = form
            self._form = form.fields
        return self._form_data

    async def form_file(self, name: str) -> UploadFile:
        """The file sent as ``name`` (gin's ``FormFile``); ``HTTPException`` 400 when the
        form has none. Cancellation: as ``form``."""
        upload = (await self.form()).file(name)
        if upload is None:
            raise HTTPException(400, f"no file in form field {name!r}")
        return upload

    def bind_query(self, model: type[T]) -> T:
        """The query string as a ``model`` (a dataclass): scalars take the first value,
        ``list[...]`` fields every value of ``name`` (or ``name[]``), a nested dataclass
        the keys ``name.field``; an empty value counts as absent. ``web.BindError``
        (400) names every bad field."""
        self.query("")  # parses the query string once
        return _from_strings(self._query or {}, model)


def _from_strings(values: dict[str, list[str]], model: type[T]) -> T:
    try:
        return convert.bounded(convert.from_strings, values, model)  # type: ignore[no-any-return]
    except convert.ConversionError as exc:
        raise BindError(exc.problems) from None


async def _one_chunk(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


def _parse_form(body: bytes, max_fields: int) -> dict[str, list[str]]:
    """A url-encoded body's fields; more than ``max_fields`` (``FormLimits.max_parts``)
    answers 400 (an 8 MiB body of ``a&a&a...`` would be four million of them)."""
    try:
        return parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields
        )
    except ValueError:
        raise HTTPException(400, f"more than {max_fields} fields in the form") from None
