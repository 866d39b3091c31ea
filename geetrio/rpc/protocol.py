"""GeeRPC's wire format, sans-IO: the Option line, length-prefixed frames, headers.

A connection starts with the client's Option as one JSON object and ``\\n``::

    {"MagicNumber": 3927900, "CodecType": "application/json",
     "ConnectTimeout": <ns>, "HandleTimeout": <ns>}

(durations in integer nanoseconds, as Go encodes ``time.Duration``). Then every message
is a header frame and a body frame, each a 4-byte big-endian length and that many
bytes. ``OptionReader`` stops at the first newline and hands back every byte after it
(the original's ``json.Decoder`` read ahead and lost them); ``FrameDecoder`` is fed
bytes and hands out whole frames. Both are bounded; neither touches a socket.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from .._core.netjson import JSONError, loads
from ._errors import FrameError

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "GOB_OPTION_BYTES",
    "MAGIC_NUMBER",
    "MAX_OPTION_BYTES",
    "FrameDecoder",
    "Header",
    "Option",
    "OptionReader",
    "encode_frame",
    "encode_message",
]

MAGIC_NUMBER = 0x3BEF5C
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
MAX_OPTION_BYTES = 4096
GOB_OPTION_BYTES = 512  # Go's json.Decoder reads at most this much first (encoding/json)
_LENGTH = struct.Struct(">I")
_NS = 1_000_000_000


@dataclass(frozen=True)
class Option:
    """What a client announces first. Timeouts in seconds; 0 means none."""

    magic_number: int = MAGIC_NUMBER
    codec_type: str = "application/json"
    connect_timeout: float = 10.0
    handle_timeout: float = 0.0

    def __post_init__(self) -> None:
        if self.connect_timeout < 0 or self.handle_timeout < 0:
            raise ValueError("timeouts must not be negative (0 means none)")

    def encode(self) -> bytes:
        """The Option line, newline included. With the gob codec the line is padded
        with spaces to ``GOB_OPTION_BYTES``: the series' Go server reads the Option
        with a ``json.Decoder``, whose first read takes up to 512 bytes and keeps what
        follows the Option to itself — a request sent right behind it would be lost
        (about one connection in six did, measured against the series' server). A line
        of exactly 512 bytes is all that read can take."""
        if self.codec_type in ("net/rpc", "jsonrpc"):
            return b""  # Go's net/rpc and net/rpc/jsonrpc: no Option line
        line = self._line()
        if self.codec_type == "application/gob" and len(line) < GOB_OPTION_BYTES:
            line = line[:-1] + b" " * (GOB_OPTION_BYTES - len(line)) + b"\n"
        return line

    def _line(self) -> bytes:
        return (
            json.dumps(
                {
                    "MagicNumber": self.magic_number,
                    "CodecType": self.codec_type,
                    "ConnectTimeout": round(self.connect_timeout * _NS),
                    "HandleTimeout": round(self.handle_timeout * _NS),
                },
                separators=(",", ":"),
            ).encode()
            + b"\n"
        )

    @classmethod
    def decode(cls, line: bytes) -> Option:
        """An Option from its line (without the newline); ``FrameError`` if it is not
        one. Unknown fields are ignored."""
        try:
            data = loads(line)
        except JSONError as exc:
            raise FrameError(f"the Option line is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FrameError("the Option line is not a JSON object")
        magic = data.get("MagicNumber")
        codec = data.get("CodecType", "application/json")
        connect = data.get("ConnectTimeout", 0)
        handle = data.get("HandleTimeout", 0)
        if not isinstance(magic, int) or isinstance(magic, bool):
            raise FrameError("the Option has no integer MagicNumber")
        if not isinstance(codec, str):
            raise FrameError("the Option's CodecType is not a string")
        for name, value in (("ConnectTimeout", connect), ("HandleTimeout", handle)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FrameError(f"the Option's {name} is not a non-negative integer")
        return cls(magic, codec, connect / _NS, handle / _NS)


class OptionReader:
    """Feed bytes until ``feed`` returns ``(option, rest)``: the Option and every byte
    that came after its newline. Raises ``FrameError`` for a line over ``limit`` bytes
    or one that is not an Option."""

    def __init__(self, limit: int = MAX_OPTION_BYTES) -> None:
        self._limit = limit
        self._buffer = bytearray()

    @property
    def empty(self) -> bool:
        """Nothing was fed yet."""
        return not self._buffer

    def feed(self, data: bytes | bytearray) -> tuple[Option, bytes] | None:
        start = len(self._buffer)
        self._buffer += data
        newline = self._buffer.find(b"\n", start)
        if newline < 0:
            if len(self._buffer) > self._limit:
                raise FrameError(f"no newline within {self._limit} bytes: not an Option line")
            return None
        if newline > self._limit:
            raise FrameError(f"the Option line is longer than {self._limit} bytes")
        line, rest = bytes(self._buffer[:newline]), bytes(self._buffer[newline + 1 :])
        self._buffer = bytearray()
        return Option.decode(line), rest


def encode_frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def encode_message(header: bytes, body: bytes) -> bytes:
    """A header frame and a body frame, ready for one ``send_all``."""
    return b"".join((_LENGTH.pack(len(header)), header, _LENGTH.pack(len(body)), body))


class FrameDecoder:
    """Feed bytes; ``feed`` returns the frames completed so far, oldest first. A length
    over ``max_frame_bytes`` raises ``FrameError`` at once (before buffering it)."""

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        self._max = max_frame_bytes
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        offset = 0
        end = len(buffer)
        while end - offset >= 4:
            (length,) = _LENGTH.unpack_from(buffer, offset)
            if length > self._max:
                raise FrameError(f"a frame of {length} bytes is over the {self._max}-byte limit")
            if end - offset - 4 < length:
                break
            frames.append(bytes(buffer[offset + 4 : offset + 4 + length]))
            offset += 4 + length
        if offset:
            del buffer[:offset]
        return frames


@dataclass(slots=True)
class Header:
    """``{"ServiceMethod": str, "Seq": int, "Error": str}``, and ``"Metadata"`` (string
    to string) when a call carries some — a field Go's GeeRPC ignores."""

    service_method: str
    seq: int
    error: str = ""
    metadata: dict[str, str] | None = None
