"""``time.Time`` in its ``GobEncode`` (``MarshalBinary``) form: a version byte (1), the
seconds since January 1 of year 1 (int64), the nanoseconds (int32) and the zone's
offset in minutes (int16; -1 for UTC), all big-endian."""

from __future__ import annotations

import datetime
import struct

from ._errors import GobError

__all__ = ["decode_time", "encode_time"]

_LAYOUT = struct.Struct(">BqiH")  # the offset is read signed below
_EPOCH = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
_UTC_OFFSET = 0xFFFF  # -1 as int16: UTC


def encode_time(value: datetime.datetime) -> bytes:
    """A naive datetime is taken as UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
    offset = aware.utcoffset() or datetime.timedelta(0)
    if offset.seconds % 60 or offset.microseconds:
        raise GobError(f"a zone offset of whole minutes only (Go's version 1): {offset}")
    delta = aware - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if value.tzinfo in (None, datetime.UTC):
        minutes = _UTC_OFFSET
    else:
        minutes = int(offset.total_seconds() // 60) & 0xFFFF
    return _LAYOUT.pack(1, seconds, delta.microseconds * 1000, minutes)


def decode_time(data: bytes) -> datetime.datetime:
    if len(data) not in (15, 16) or data[0] not in (1, 2):
        raise GobError(f"a time.Time of {len(data)} bytes, version {data[:1].hex()}")
    _, seconds, nanos, minutes = _LAYOUT.unpack(data[:15])
    if not 0 <= nanos < 1_000_000_000:
        raise GobError(f"a time.Time with {nanos} nanoseconds")
    try:
        moment = _EPOCH + datetime.timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise GobError("a time.Time outside the years Python has (1-9999)") from None
    if minutes == _UTC_OFFSET:
        return moment
    signed = minutes - 0x10000 if minutes & 0x8000 else minutes
    extra = data[15] if len(data) == 16 else 0  # version 2: the offset's seconds
    zone = datetime.timezone(datetime.timedelta(minutes=signed, seconds=extra))
    return moment.astimezone(zone)
