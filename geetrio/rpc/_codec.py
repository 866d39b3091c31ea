"""Codecs: how headers and bodies become frame bytes. Sans-IO.

A codec is named by the Option's ``CodecType``; ``application/json`` is built in (as
GeeRPC's ``JsonType``), with typed decoding from ``convert``. Register others with
``register_codec``. Never pickle: a frame from the network must not run code.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .._core.netjson import JSONError, loads
from ._convert import ConversionError, from_plain, to_plain
from ._errors import FrameError
from .protocol import Header

__all__ = ["Codec", "JSONCodec", "StreamCodec", "get_codec", "register_codec"]


class Codec(Protocol):
    name: str

    def encode_header(self, header: Header) -> bytes: ...

    def decode_header(self, data: bytes) -> Header:
        """Raises ``FrameError``: a header that is not one ends the connection."""
        ...

    def encode_body(self, value: Any) -> bytes: ...

    def decode_body(self, data: bytes, annotation: Any, what: str) -> Any:
        """Raises ``ValueError`` (``ConversionError`` included) naming ``what``."""
        ...


class JSONCodec:
    """``application/json``: UTF-8 JSON, dataclasses as objects."""

    name = "application/json"

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        self._methods: dict[str, bytes] = {}  # "Foo.Sum" -> b'"Foo.Sum"', JSON-escaped

    def encode_header(self, header: Header) -> bytes:
        if not header.error:  # a request: the common case, done by hand
            method = self._methods.get(header.service_method)
            if method is None:
                method = self._encoder.encode(header.service_method).encode()
                if len(self._methods) < 4096:
                    self._methods[header.service_method] = method
            if header.metadata is None:
                return b'{"ServiceMethod":%s,"Seq":%d,"Error":""}' % (method, header.seq)
            metadata = self._encoder.encode(header.metadata).encode()
            return b'{"ServiceMethod":%s,"Seq":%d,"Error":"","Metadata":%s}' % (
                method,
                header.seq,
                metadata,
            )
        value: dict[str, Any] = {
            "ServiceMethod": header.service_method,
            "Seq": header.seq,
            "Error": header.error,
        }
        if header.metadata is not None:
            value["Metadata"] = header.metadata
        return self._encoder.encode(value).encode()

    def decode_header(self, data: bytes) -> Header:
        try:
            value = loads(data)
        except JSONError as exc:
            raise FrameError(f"a header frame that is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise FrameError("a header frame that is not a JSON object")
        method = value.get("ServiceMethod", "")
        seq = value.get("Seq")
        error = value.get("Error", "")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise FrameError("a header without a non-negative integer Seq")
        if not isinstance(method, str) or not isinstance(error, str):
            raise FrameError("a header whose ServiceMethod or Error is not a string")
        metadata = value.get("Metadata")
        if metadata is not None:
            _check_metadata(metadata)
        return Header(method, seq, error, metadata)

    def encode_body(self, value: Any) -> bytes:
        try:
            return self._encoder.encode(to_plain(value)).encode()
        except ValueError as exc:  # NaN, infinity
            raise ConversionError(f"cannot encode as JSON: {exc}") from None

    def decode_body(self, data: bytes, annotation: Any, what: str) -> Any:
        try:
            value = loads(data)
        except JSONError as exc:
            raise ConversionError(f"{what} is not valid JSON: {exc}") from None
        return from_plain(value, annotation, what)


class StreamCodec(Protocol):
    """A codec that frames its own messages (``rpc/_framing.py``), as gob does."""

    name: str

    def framing(self, max_frame_bytes: int) -> Any: ...


_CODECS: dict[str, Codec | StreamCodec] = {JSONCodec.name: JSONCodec()}


def register_codec(codec: Codec | StreamCodec) -> None:
    _CODECS[codec.name] = codec


def get_codec(name: str) -> Codec | StreamCodec | None:
    return _CODECS.get(name)


MAX_METADATA_ENTRIES = 64
MAX_METADATA_BYTES = 8192  # keys and values together


def _check_metadata(metadata: Any) -> None:
    """Metadata is an object of at most 64 string entries, 8 KiB in all."""
    if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_ENTRIES:
        raise FrameError(f"Metadata must be an object of at most {MAX_METADATA_ENTRIES} entries")
    size = 0
    for key, item in metadata.items():
        if not isinstance(item, str):
            raise FrameError("Metadata values must be strings")
        size += len(key) + len(item)
    if size > MAX_METADATA_BYTES:
        raise FrameError(f"Metadata over {MAX_METADATA_BYTES} characters")
