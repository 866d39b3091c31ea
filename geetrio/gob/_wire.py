"""gob's primitives, sans-IO: unsigned and signed integers, floats (byte-reversed
float64 bits), and counted bytes — written into a ``bytearray``, read from a bounded
``Reader`` that raises ``GobError`` instead of reading past its end."""

from __future__ import annotations

import struct

from ._errors import GobError

__all__ = ["Reader", "put_bytes", "put_float", "put_int", "put_uint"]

_DOUBLE = struct.Struct("<d")  # little-endian bits: their bytes reversed, as gob sends them
_U64 = struct.Struct(">Q")
MAX_UINT = (1 << 64) - 1


def put_uint(out: bytearray, value: int) -> None:
    """< 128: one byte; else the byte count, negated, then the big-endian bytes."""
    if value < 128:
        if value < 0:
            raise GobError(f"an unsigned integer cannot be negative: {value}")
        out.append(value)
        return
    if value > MAX_UINT:
        raise GobError(f"an integer over 64 bits: {value}")
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    out.append(256 - len(raw))
    out += raw


def put_int(out: bytearray, value: int) -> None:
    """Bit 0 says whether the rest is complemented (so -1 is 1, 1 is 2)."""
    if not -(1 << 63) <= value < (1 << 63):
        raise GobError(f"an integer outside int64: {value}")
    put_uint(out, (~value << 1) | 1 if value < 0 else value << 1)


def put_float(out: bytearray, value: float) -> None:
    put_uint(out, _U64.unpack(_DOUBLE.pack(value))[0])


def put_bytes(out: bytearray, value: bytes) -> None:
    put_uint(out, len(value))
    out += value


class Reader:
    """A view of one message's bytes; every read checks what is left."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def left(self) -> int:
        return self.end - self.pos

    def uint(self) -> int:
        if self.pos >= self.end:
            raise GobError("the message ends inside an integer")
        first = self.data[self.pos]
        self.pos += 1
        if first < 128:
            return first
        count = 256 - first
        if count > 8:
            raise GobError(f"an integer of {count} bytes (at most 8)")
        if self.pos + count > self.end:
            raise GobError("the message ends inside an integer")
        value = int.from_bytes(self.data[self.pos : self.pos + count], "big")
        self.pos += count
        return value

    def sint(self) -> int:
        """A signed integer (bit 0: complement the rest)."""
        u = self.uint()
        return ~(u >> 1) if u & 1 else u >> 1

    def float(self) -> float:
        value: float = _DOUBLE.unpack(_U64.pack(self.uint()))[0]
        return value

    def count(self, what: str, each: int = 1) -> int:
        """A length that must fit in what is left (at least ``each`` bytes an item)."""
        n = self.uint()
        if n * each > self.left:
            raise GobError(f"{what} of {n} items in {self.left} bytes")
        return n

    def raw(self, what: str) -> bytes:
        n = self.count(what)
        value = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return value
