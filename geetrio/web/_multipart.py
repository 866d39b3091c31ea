"""Multipart forms parsed as the body streams in: python-multipart's sans-IO parser,
limits on parts, fields, files and the whole body, files spooled by ``UploadFile``.

The parser's callbacks only record what they saw (``_Parts``); the loop in
``read_multipart`` then does the awaiting — writing file data, which may go to disk —
between two chunks of the body. Anything that stops the loop (a limit, a malformed body,
the client leaving, cancellation) closes every upload made so far before it goes on.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field

import trio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ._errors import HTTPException
from ._upload import UploadFile

__all__ = ["FormData", "FormLimits", "read_multipart"]


@dataclass(frozen=True)
class FormLimits:
    """Limits of one multipart body (``Engine.form_limits``, or per ``c.form(limits=)``).
    Past a size limit: 413; past a count or a malformed body: 400. Files stay in memory
    up to ``spool_bytes`` each and ``max_memory_bytes`` with the fields: past that, the
    next files go to disk from their first byte, and fields past it answer 413.

    Streamed routes (``stream_body=True``) are not held to the server's
    ``max_body_bytes``: ``max_body_bytes`` here is their cap."""

    max_parts: int = 1000
    max_files: int = 50  # file parts (each spooled one holds a descriptor)
    max_field_bytes: int = 1 << 20  # one non-file field
    max_memory_bytes: int = 16 << 20  # fields and small files held in memory, together
    max_file_bytes: int = 1 << 30  # one file
    max_body_bytes: int = 2 << 30  # the whole body
    max_part_header_bytes: int = 16 << 10  # one part's headers together
    spool_bytes: int = 1 << 20  # a file stays in memory up to this, then goes to disk
    spool_dir: str | None = None  # where spooled files live (unnamed); None: $TMPDIR


@dataclass
class FormData:
    """A parsed form: ``fields`` (name → values) and ``files`` (name → uploads)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadFile]] = field(default_factory=dict)

    def close(self) -> None:
        """Close every upload (their temporary files)."""
        for uploads in self.files.values():
            for upload in uploads:
                upload.close()

    async def aclose(self) -> None:
        """``close()``, then a checkpoint. Cancellation: closes anyway."""
        self.close()
        await trio.lowlevel.checkpoint()

    def file(self, name: str) -> UploadFile | None:
        """The first file sent as ``name``, or None."""
        uploads = self.files.get(name)
        return uploads[0] if uploads else None


class _Parts:
    """python-multipart's callbacks: build the parts, check the limits, and queue the
    file data for the loop to write (callbacks cannot await)."""

    def __init__(self, limits: FormLimits, form: FormData) -> None:
        self.limits = limits
        self.form = form
        self.count = 0
        self.file_count = 0
        self.memory = 0  # bytes of finished fields and in-memory files
        self.ended = False
        self.writes: list[tuple[UploadFile, bytes]] = []
        self.finished: list[UploadFile] = []
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._name = b""
        self._value = b""
        self._field: str | None = None
        self._data = bytearray()
        self._upload: UploadFile | None = None
        self._file_bytes = 0
        self._spool_at = 0  # the current file's spool threshold

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.count += 1
        if self.count > self.limits.max_parts:
            raise HTTPException(400, f"more than {self.limits.max_parts} parts in the form")
        self._headers = []
        self._header_bytes = 0
        self._field = None
        self._data = bytearray()
        self._upload = None
        self._file_bytes = 0

    def _grow_headers(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_part_header_bytes:
            raise HTTPException(413, "a part's headers are too large")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow_headers(end - start)
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow_headers(end - start)
        self._value += data[start:end]

    def on_header_end(self) -> None:
        name = self._name.decode("latin-1").lower()
        self._headers.append((name, self._value.decode("utf-8", "replace")))
        self._name = self._value = b""

    def on_headers_finished(self) -> None:
        headers = dict(self._headers)
        _, options = parse_options_header(headers.get("content-disposition", ""))
        name = options.get(b"name")
        if name is None:
            raise HTTPException(400, "a form part without a name (Content-Disposition)")
        self._field = field = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename == b"":  # a file input left empty: no file, no field
            self._field = None
        elif filename is not None:
            limits = self.limits
            self.file_count += 1
            if self.file_count > limits.max_files:
                raise HTTPException(400, f"more than {limits.max_files} files in the form")
            # in memory within what the form may still hold there, else on disk
            self._spool_at = min(limits.spool_bytes, max(0, limits.max_memory_bytes - self.memory))
            self._upload = UploadFile(
                field,
                filename.decode("utf-8", "replace"),
                headers.get("content-type", "application/octet-stream"),
                self._headers,
                spool_bytes=self._spool_at,
                spool_dir=limits.spool_dir,
            )
            self.form.files.setdefault(field, []).append(self._upload)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload = self._upload
        if upload is None:
            size = len(self._data) + end - start
            if size > self.limits.max_field_bytes:
                raise HTTPException(413, f"form field {self._field!r} is too large")
            if self.memory + size > self.limits.max_memory_bytes:
                raise HTTPException(413, "the form's fields are too large together")
            self._data += data[start:end]
            return
        self._file_bytes += end - start
        if self._file_bytes > self.limits.max_file_bytes:
            raise HTTPException(413, f"file {upload.filename!r} is too large")
        # python-multipart hands over the body chunk with bounds: most of the time the
        # whole chunk, kept as it is rather than copied
        self.writes.append((upload, data if start == 0 and end == len(data) else data[start:end]))

    def on_part_end(self) -> None:
        if self._upload is not None:
            self.finished.append(self._upload)
            if self._file_bytes <= self._spool_at:  # it stays in memory
                self.memory += self._file_bytes
        elif self._field is not None:
            self.memory += len(self._data)
            value = self._data.decode("utf-8", "replace")
            self.form.fields.setdefault(self._field, []).append(value)

    def on_end(self) -> None:
        self.ended = True


async def read_multipart(
    content_type: str, body: bytes | AsyncIterable[bytes], limits: FormLimits
) -> FormData:
    """Parse a ``multipart/form-data`` body as it arrives (or a buffered one, in
    pieces of 64 KiB: the same limits and spooling). Raises ``HTTPException`` (400,
    413) naming what is wrong; the uploads made so far are closed then. Cancellation:
    the uploads are closed and ``Cancelled`` goes on."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 70:  # RFC 2046: 1 to 70 characters
        raise HTTPException(400, "a multipart body needs a boundary of 1 to 70 characters")
    form = FormData()
    parts = _Parts(limits, form)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    try:
        await _parse(_Pieces(body) if isinstance(body, bytes) else body, parser, parts, limits)
    except FormParserError as exc:
        form.close()
        raise HTTPException(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        form.close()
        raise
    return form


async def _parse(
    chunks: AsyncIterable[bytes], parser: MultipartParser, parts: _Parts, limits: FormLimits
) -> None:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limits.max_body_bytes:
            raise HTTPException(413, "the form is too large")
        parser.write(chunk)
        for upload, data in parts.writes:
            await upload.write(data)
        parts.writes.clear()
        for upload in parts.finished:
            await upload.finish()
        parts.finished.clear()
    parser.finalize()
    if not parts.ended:
        raise HTTPException(400, "the multipart body ended before its closing boundary")


class _Pieces:
    """A buffered body as an async iterator of pieces (no generator to finalize)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def __aiter__(self) -> _Pieces:
        return self

    async def __anext__(self) -> bytes:
        if self.at >= len(self.data):
            raise StopAsyncIteration
        self.at += 65536
        return self.data[self.at - 65536 : self.at]
