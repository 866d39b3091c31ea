"""Framing: how a connection's messages (a header and a body) become bytes and back,
sans-IO, one ``Framing`` per connection. The codec owns it (issue 21): JSON travels in
geetrio's length-prefixed frames (``Framed``); gob is self-delimiting and keeps type
state per stream, so its codec frames itself (``rpc/_gob.py``).

A codec whose object has a ``framing(max_frame_bytes)`` method frames itself; any
other (``encode_header``/``decode_header``/``encode_body``/``decode_body``) travels in
length-prefixed frames.
"""

from __future__ import annotations

from typing import Any, Protocol

from .protocol import FrameDecoder, Header, encode_message

__all__ = ["BodyTooLarge", "Framed", "Framing", "framing_of"]


class BodyTooLarge(ValueError):
    """A body over the connection's frame limit (nothing was sent, nothing changed)."""


class Framing(Protocol):
    droppable: bool
    """Whether a message built but not yet written may be dropped (a cancelled
    call's): not on a stream whose later messages may rely on it."""

    @property
    def pending(self) -> bool:
        """Bytes of an unfinished message are held."""

    def message(self, header: Header, body: Any) -> bytes:
        """The bytes of one message. ``ValueError`` when the body cannot be encoded,
        ``BodyTooLarge`` over the limit; the stream is unchanged either way."""

    def feed(self, data: bytes | bytearray) -> list[tuple[Header, Any, int]]:
        """The messages completed so far: header, body (for ``decode_body``), size in
        bytes. ``FrameError`` when the bytes are not this framing's."""

    def decode_body(self, body: Any, annotation: Any, what: str) -> Any:
        """``body`` as ``annotation``; ``ValueError`` naming ``what``."""


class Framed:
    """A header frame and a body frame, each a 4-byte length and its bytes, around a
    codec of headers and bodies (``application/json``)."""

    droppable = True

    def __init__(self, codec: Any, max_frame_bytes: int) -> None:
        self.codec = codec
        self.max_frame_bytes = max_frame_bytes
        self._decoder = FrameDecoder(max_frame_bytes)
        self._header: Header | None = None

    @property
    def pending(self) -> bool:
        return bool(self._decoder.pending) or self._header is not None

    def message(self, header: Header, body: Any) -> bytes:
        data = self.codec.encode_body(body)
        if len(data) > self.max_frame_bytes:
            raise BodyTooLarge(f"the body is over {self.max_frame_bytes} bytes")
        return encode_message(self.codec.encode_header(header), data)

    def feed(self, data: bytes | bytearray) -> list[tuple[Header, Any, int]]:
        found = []
        for frame in self._decoder.feed(data):
            header = self._header
            if header is None:
                self._header = self.codec.decode_header(frame)
                continue
            self._header = None
            found.append((header, frame, len(frame)))
        return found

    def decode_body(self, body: Any, annotation: Any, what: str) -> Any:
        return self.codec.decode_body(body, annotation, what)


def framing_of(codec: Any, max_frame_bytes: int) -> Framing:
    """The framing of one connection speaking ``codec``."""
    own = getattr(codec, "framing", None)
    if own is not None:
        made: Framing = own(max_frame_bytes)
        return made
    return Framed(codec, max_frame_bytes)
