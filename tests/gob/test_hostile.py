"""``geetrio.gob``'s decoder faces the network: truncated streams wait for more, and
hostile ones — huge lengths, type-id loops, deep nesting, ids defined twice or never,
too many types — are refused with a ``GobError`` naming what is wrong, quickly and
without growing past the limits. Fields the sender has and we do not are skipped, as
Go skips them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest

from geetrio import gob
from geetrio.gob._wire import put_int, put_uint


@dataclass
class Wide:
    name: str = ""
    extra: list[int] = field(default_factory=list)
    age: int = 0


@dataclass
class Narrow:
    age: int = 0
    name: str = ""


def message(*parts: bytes) -> bytes:
    body = b"".join(parts)
    out = bytearray()
    put_uint(out, len(body))
    return bytes(out) + body


def uint(value: int) -> bytes:
    out = bytearray()
    put_uint(out, value)
    return bytes(out)


def sint(value: int) -> bytes:
    out = bytearray()
    put_int(out, value)
    return bytes(out)


def slice_type(type_id: int, elem: int) -> bytes:
    """A definition ``type T []Elem`` as Go sends one."""
    return message(
        sint(-type_id), b"\x02\x01\x02", sint(type_id), b"\x00\x01", sint(elem), b"\x00\x00"
    )


def decode(data: bytes, annotation: Any = Any, **limits: int) -> Any:
    decoder = gob.Decoder(**limits)
    decoder.feed(data)
    return decoder.next(annotation)


def test_a_truncated_stream_waits_for_the_rest_at_every_cut() -> None:
    stream = gob.Encoder().encode(Wide("ann", [1, 2, 3], 42))
    for cut in range(len(stream)):
        decoder = gob.Decoder()
        decoder.feed(stream[:cut])
        assert decoder.next(Wide) is gob.NEED_MORE
        decoder.feed(stream[cut:])
        assert decoder.next(Wide) == Wide("ann", [1, 2, 3], 42)


def test_fields_we_do_not_have_are_skipped_and_ours_keep_their_defaults() -> None:
    assert decode(gob.Encoder().encode(Wide("ann", [1, 2], 42)), Narrow) == Narrow(42, "ann")
    assert decode(gob.Encoder().encode(Wide("bob")), Narrow) == Narrow(0, "bob")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (uint(1 << 60), "a message of"),  # a length no one will send
        (b"\xf7" + b"\x01" * 9, "more than 8 bytes"),
        (message(sint(6), b"\x00", uint(1 << 40)), "items in"),  # a string of 2^40 bytes
        (message(sint(-10), b"\x00"), "reserved type id 10"),
        (message(sint(70), b"\x00\x00"), "never defined"),
        (slice_type(65, 2) + slice_type(65, 2), "defined twice"),
        (slice_type(65, 2) + message(sint(65), b"\x00", uint(1 << 30)), "items in"),
        (message(sint(1), b"\x00\x02"), "a bool of 2"),
        (message(sint(2), b"\x00\x04\x09"), "left over"),
        (message(sint(-65), b"\x08\x00"), "unknown field"),
        (message(sint(-65), b"\x03\x01\x02", sint(66), b"\x00\x00\x00"), "names id 66"),
    ],
    ids=[
        "huge-message",
        "long-integer",
        "huge-string",
        "reserved-id",
        "undefined-id",
        "defined-twice",
        "huge-slice",
        "bad-bool",
        "trailing-bytes",
        "bad-definition",
        "wrong-id",
    ],
)
def test_hostile_streams_are_refused_by_name(data: bytes, error: str) -> None:
    with pytest.raises(gob.GobError, match=error):
        decode(data)


def test_a_type_that_contains_itself_cannot_nest_values_without_bound() -> None:
    # type T []T, then a value nested 1,000 deep: every level is one byte (a count of 1)
    data = slice_type(65, 65) + message(sint(65), b"\x00", b"\x01" * 1000, b"\x00")
    with pytest.raises(gob.GobError, match=f"nested over {gob.MAX_DEPTH} deep"):
        decode(data)
    shallow = slice_type(65, 65) + message(sint(65), b"\x00", b"\x01" * 3, b"\x00")
    assert decode(shallow) == [[[[]]]]


def test_interfaces_inside_interfaces_are_bounded_too() -> None:
    # An interface whose concrete type claims to be an interface again, 200 deep.
    value = b"\x03int" + sint(2) + uint(2) + b"\x00\x02"  # the innermost: an int 1
    for _ in range(200):
        value = b"\x03any" + sint(8) + uint(len(value) + 1) + b"\x00" + value
    with pytest.raises(gob.GobError, match="nested over"):
        decode(message(sint(8), b"\x00", value))


def test_too_many_type_definitions_are_refused() -> None:
    data = b"".join(slice_type(65 + i, 2) for i in range(11))
    with pytest.raises(gob.GobError, match="more than 10 type definitions"):
        decode(data, max_types=10)


def test_what_cannot_be_encoded_is_named() -> None:
    with pytest.raises(gob.GobError, match="no gob type"):
        gob.Encoder().encode({1, 2})
    with pytest.raises(gob.GobError, match="an array of 3 given 2 items"):
        gob.Encoder().encode([1, 2], Annotated[list[int], gob.Array(3)])
    with pytest.raises(gob.GobError, match="outside int64"):
        gob.Encoder().encode(1 << 63)


def test_strings_that_are_not_utf8_survive() -> None:
    data = message(sint(6), b"\x00", uint(2), b"\xff\xfe")
    text = decode(data, str)
    assert gob.Encoder().encode(text) == data  # the same bytes back
