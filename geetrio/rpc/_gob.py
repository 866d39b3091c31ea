"""``application/gob``: GeeRPC's own codec (and Go's ``net/rpc``'s), on ``geetrio.gob``.

After the Option line, each message is two gob values on one stream per direction:
the header — GeeRPC's ``Header{ServiceMethod string; Seq uint64; Error string}``, plus
geetrio's ``Metadata map[string]string``, which Go's decoders skip as they skip any
field they do not have — then the body. Type definitions go once per stream, so a
built message is never dropped unsent, and one that fails to build leaves the stream
as it was. A body that is no value (an error's) is an empty struct, as GeeRPC's
``invalidRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from .. import gob
from ._codec import MAX_METADATA_BYTES, MAX_METADATA_ENTRIES
from ._errors import FrameError
from ._framing import BodyTooLarge
from .protocol import Header

__all__ = ["GOB", "NET_RPC", "GobCodec", "GobFraming"]

GOB = "application/gob"
NET_RPC = "net/rpc"  # Go's standard net/rpc: the same gob messages, and no Option line


@dataclass
class GobHeader:
    service_method: str = ""
    seq: Annotated[int, gob.UINT] = 0
    error: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Empty:
    """``struct{}``: the body of a reply that carries an error."""


class GobCodec:
    def __init__(self, name: str = GOB) -> None:
        self.name = name

    def framing(self, max_frame_bytes: int) -> GobFraming:
        return GobFraming(max_frame_bytes)


class GobFraming:
    droppable = False  # a later message may use a type this one defines

    def __init__(self, max_frame_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._encoder = gob.Encoder()
        self._decoder = gob.Decoder(max_message_bytes=max_frame_bytes)
        self._header: Header | None = None

    @property
    def pending(self) -> bool:
        return self._decoder.buffered > 0 or self._header is not None

    def message(self, header: Header, body: Any) -> bytes:
        encoder = self._encoder
        state = encoder.snapshot()
        try:
            head = encoder.encode(
                GobHeader(header.service_method, header.seq, header.error, header.metadata or {})
            )
            data = encoder.encode(Empty() if body is None else body)
            if len(data) > self.max_frame_bytes:
                raise BodyTooLarge(f"the body is over {self.max_frame_bytes} bytes")
        except BaseException:
            encoder.restore(state)
            raise
        return head + data

    def feed(self, data: bytes | bytearray) -> list[tuple[Header, Any, int]]:
        decoder = self._decoder
        decoder.feed(bytes(data))
        found: list[tuple[Header, Any, int]] = []
        try:
            while True:
                if self._header is None:
                    value = decoder.next(GobHeader)
                    if value is gob.NEED_MORE:
                        return found
                    self._header = _header(value)
                body = decoder.next_raw()
                if body is gob.NEED_MORE:
                    return found
                found.append((self._header, body, len(body)))
                self._header = None
        except gob.GobError as exc:
            raise FrameError(f"not a gob stream: {exc}") from None

    def decode_body(self, body: Any, annotation: Any, what: str) -> Any:
        try:
            return self._decoder.decode_raw(body, annotation)
        except gob.GobError as exc:
            raise ValueError(f"{what}: {exc}") from None


def _header(value: GobHeader) -> Header:
    metadata = value.metadata or None
    if metadata is not None:
        size = sum(len(k) + len(v) for k, v in metadata.items())
        if len(metadata) > MAX_METADATA_ENTRIES or size > MAX_METADATA_BYTES:
            raise FrameError("Metadata over its limits")
    if value.seq >= 1 << 63:
        raise FrameError("a Seq over 2^63")
    return Header(value.service_method, value.seq, value.error, metadata)
