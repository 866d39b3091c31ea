"""``web.gzip()``: compress answers for clients that accept it.

Negotiated from ``Accept-Encoding`` (``gzip;q=0`` refuses it); a body under
``minimum_size`` bytes, an answer already encoded, a status without a body, and types
that are compressed already (images, audio, video, archives, fonts) go out as they
are. A streamed answer is compressed as it streams (chunked then), each piece flushed
with ``Z_SYNC_FLUSH`` so Server-Sent Events still arrive one by one. ``Vary:
Accept-Encoding`` on everything it could have compressed.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable

from ._context import Context
from ._types import HandlerFunc

__all__ = ["accepts_gzip", "gzip"]

COMPRESSED_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/octet-stream",
)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``*`` counts; ``q=0`` refuses)."""
    verdict: dict[str, bool] = {}
    for item in accept_encoding.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        verdict[name.lower()] = quality > 0
    return verdict.get("gzip", verdict.get("x-gzip", verdict.get("*", False)))


async def _compressed(chunks: AsyncIterable[bytes], level: int) -> AsyncIterator[bytes]:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: the gzip container
    try:
        async for chunk in chunks:
            if chunk:
                yield packer.compress(chunk) + packer.flush(zlib.Z_SYNC_FLUSH)
        yield packer.flush()
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def gzip(
    *,
    minimum_size: int = 500,
    level: int = 6,
    skip_types: Iterable[str] = COMPRESSED_TYPES,
) -> HandlerFunc:
    """Middleware compressing answers of ``minimum_size`` bytes or more at ``level``
    (1 fastest .. 9 smallest) for clients that accept gzip."""
    skipped = tuple(t.lower() for t in skip_types)

    async def compress(c: Context) -> None:
        await c.next()
        if c.method == "HEAD" or c.status_code < 200 or c.status_code in (204, 304):
            return
        headers = {k.lower(): v for k, v in c.response_headers}
        if "content-encoding" in headers:
            return
        if headers.get("content-type", "").lower().startswith(skipped):
            return
        stream = c.response_stream
        if stream is None and len(c.response_body) < minimum_size:
            return
        c.add_header("Vary", "Accept-Encoding")
        if not accepts_gzip(c.request.headers.get("accept-encoding", "")):
            return
        c.set_header("Content-Encoding", "gzip")
        if stream is None:
            c.response_body = zlib.compress(c.response_body, level, wbits=31)
        else:
            c.replace_stream(_compressed(stream, level))

    return compress
