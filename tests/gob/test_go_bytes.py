"""Streams Go's ``encoding/gob`` wrote (go1.19, captured once), decoded — and values
whose encoding must be Go's byte for byte. No Go needed: these pin the format for the
cases the round-trip tests cannot name, such as embedded structs, which gob sends as a
field named after the embedded type (it does not flatten them)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Annotated, Any

from geetrio import gob


@dataclass
class A:
    x: int = 0


@dataclass
class B:
    a: A = field(default_factory=A)  # Go: type B struct { A; Y int }
    y: int = 0


@dataclass
class Inner:
    a: int = 0
    b: str = ""


@dataclass
class S:
    x: int = 0
    y: list[int] = field(default_factory=list)
    in_: Inner = field(default_factory=Inner, metadata={"gob": "In"})
    any: Any = None
    t: datetime.datetime | None = None
    m: dict[str, int] | None = None
    arr: Annotated[list[int], gob.Array(2)] = field(default_factory=lambda: [0, 0])


EMBEDDED = bytes.fromhex(
    "1cff810301010142 01ff8200 010201 0141 01ff8400 010159 010400 0000"
    "15ff8303010101 41 01ff8400 0101 010158 010400 0000"
    "09ff82 01 0102 00 0104 00".replace(" ", "")
)
S_VALUE = bytes.fromhex(  # S{X: 1, Any: Inner{A: 2}, T: 2020-01-02 03:04:05.000000006 UTC, Arr: {1, 2}}
    "43ff850301010153 01ff8600 0107 01015801 0400 0101 5901ff82 00 0102496e 01ff8400"
    "0103416e79 011000 010154 01ff8800 01014d 01ff8a00 010341727201ff8c00 0000"
    "0cff81020102ff820001040000"
    "1fff830301010549 6e6e6572 01ff8400 0102 0101 41 0104 00 0101 42 010c 00 0000"
    "10ff870501010454696d6501ff88000000"
    "1eff890401010e6d61705b737472696e675d696e7401ff8a00010c01040000"
    "18ff8b010101085b325d75696e743801ff8c0001060104 0000"
    "2eff86010202000 10a6d61696e2e496e6e6572ff84030104000 10f01000000 0ed59f54a5000000 06ffff 0202 0102 00".replace(
        " ", ""
    )
)


def test_an_embedded_struct_arrives_as_a_field_named_after_its_type() -> None:
    decoder = gob.Decoder()
    decoder.feed(EMBEDDED)
    assert decoder.next(B) == B(A(1), 2)


def test_a_struct_with_an_interface_a_time_a_map_and_an_array() -> None:
    gob.register("main.Inner", Inner)
    decoder = gob.Decoder()
    decoder.feed(S_VALUE)
    assert decoder.next(S) == S(
        x=1,
        any=Inner(2),
        t=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),  # Go's 6 ns: 0 µs
        arr=[1, 2],
    )


def test_our_bytes_are_gos_for_basic_values() -> None:
    assert gob.Encoder().encode(7).hex() == "0304000e"
    assert gob.Encoder().encode("hi").hex() == "050c00026869"
    expected = "0cff81020102ff82000104000006ff8200020204"  # []int{1, 2}
    assert gob.Encoder().encode([1, 2], list[int]).hex() == expected
