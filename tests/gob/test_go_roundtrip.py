"""``geetrio.gob`` against Go's real ``encoding/gob`` (issue 21): random values written
by our encoder are read by a Go program (``go/gobecho``), which writes them back with
Go's own encoder; our decoder must read exactly the values we sent. So every kind both
ways: Go accepts what we write, and we read what Go writes."""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geetrio import gob

INT64 = st.integers(-(1 << 63), (1 << 63) - 1)


@dataclass
class Point:
    x: int = 0
    y: int = 0


gob.register("main.Point", Point)


@dataclass
class Sample:
    flag: bool = False
    count: int = 0
    small: int = 0  # Go's int8
    big: Annotated[int, gob.UINT] = 0
    ratio: float = field(default=0.0, metadata={"gob": "Float"})  # a name of our own
    single: float = 0.0  # Go's float32
    phase: complex = field(default=0j, metadata={"gob": "Complex"})
    text: str = ""
    blob: bytes = b""
    ints: list[int] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    triple: Annotated[list[int], gob.Array(3)] = field(default_factory=lambda: [0, 0, 0])
    scores: dict[str, int] = field(default_factory=dict)
    where: Point = field(default_factory=Point)
    maybe: Point | None = None
    points: list[Point] = field(default_factory=list)
    when: datetime.datetime | None = None
    any: Any = None
    nested: dict[str, list[Point]] = field(default_factory=dict)


points = st.builds(Point, INT64, INT64)
finite = st.floats(allow_nan=False)
zones = st.sampled_from(
    [datetime.UTC, datetime.timezone(datetime.timedelta(hours=5, minutes=30))]
    + [datetime.timezone(datetime.timedelta(minutes=-m)) for m in (60, 420)]
)
moments = st.datetimes(
    min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)
).flatmap(lambda d: zones.map(lambda z: d.replace(tzinfo=z)))
samples = st.builds(
    Sample,
    flag=st.booleans(),
    count=INT64,
    small=st.integers(-128, 127),
    big=st.integers(0, (1 << 64) - 1),
    ratio=finite,
    single=st.floats(width=32, allow_nan=False),
    phase=st.complex_numbers(allow_nan=False),
    text=st.text(),
    blob=st.binary(),
    ints=st.lists(INT64, max_size=5),
    words=st.lists(st.text(max_size=5), max_size=5),
    triple=st.lists(INT64, min_size=3, max_size=3),
    scores=st.dictionaries(st.text(max_size=5), INT64, max_size=5),
    where=points,
    maybe=st.none() | points,
    points=st.lists(points, max_size=3),
    when=st.none() | moments,
    any=st.none() | INT64 | st.text() | st.booleans() | points | finite | st.binary(),
    nested=st.dictionaries(st.text(max_size=3), st.lists(points, max_size=2), max_size=3),
)


def through_go(gobecho: Path, values: list[Sample]) -> list[Sample]:
    encoder = gob.Encoder()
    sent = b"".join(encoder.encode(value) for value in values)
    done = subprocess.run([str(gobecho)], input=sent, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    decoder = gob.Decoder()
    decoder.feed(done.stdout)
    back = [decoder.next(Sample) for _ in values]
    assert decoder.next(Sample) is gob.NEED_MORE and decoder.buffered == 0
    return back


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(samples, min_size=1, max_size=8))
def test_random_values_survive_gos_encoding_gob_both_ways(
    gobecho: Path, values: list[Sample]
) -> None:
    assert through_go(gobecho, values) == values


def test_every_field_set_at_once(gobecho: Path) -> None:
    full = Sample(
        flag=True,
        count=-(1 << 63),
        small=-128,
        big=(1 << 64) - 1,
        ratio=17.0,
        single=0.5,
        phase=1 - 2j,
        text="héllo\x00",
        blob=bytes(range(256)),
        ints=[0, 1, -1],
        words=["", "a"],
        triple=[1, 0, 3],
        scores={"": 0, "x": 9},
        where=Point(1, 2),
        maybe=Point(),  # a pointer to a zero struct is not a nil pointer
        points=[Point(), Point(3, 4)],
        when=datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        any=Point(5, 6),
        nested={"a": [Point(1, 1)], "b": []},
    )
    assert through_go(gobecho, [full, Sample(), full]) == [full, Sample(), full]


def test_go_refuses_what_does_not_fit_and_we_name_what_we_cannot_send(gobecho: Path) -> None:
    too_small = gob.Encoder().encode(Sample(small=300))  # an int8 field
    done = subprocess.run([str(gobecho)], input=too_small, capture_output=True, timeout=60)
    assert done.returncode == 1 and b"out of range" in done.stderr
    with pytest.raises(gob.GobError, match="register it"):
        gob.Encoder().encode(Sample(any=object()))
