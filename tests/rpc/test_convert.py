"""Bodies to annotated types and back (rpc/convert.py): dataclasses, lists, dicts,
optionals; a body that does not fit names the field."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from geetrio.rpc._convert import ConversionError, from_plain, to_plain


@dataclass
class Point:
    x: int
    y: int = 0


@dataclass
class Shape:
    name: str
    points: list[Point] = field(default_factory=list)
    tags: dict[str, float] = field(default_factory=dict)
    parent: Point | None = None


def test_bodies_decode_into_annotated_types() -> None:
    value = {"name": "tri", "points": [{"x": 1, "y": 2}, {"x": 3}], "tags": {"a": 1}, "extra": 9}
    assert from_plain(value, Shape) == Shape("tri", [Point(1, 2), Point(3)], {"a": 1.0}, None)
    assert to_plain(Shape("s", [Point(1)])) == {
        "name": "s",
        "points": [{"x": 1, "y": 0}],
        "tags": {},
        "parent": None,
    }
    assert from_plain(None, int | None) is None
    assert from_plain(5, float) == 5.0


@pytest.mark.parametrize(
    ("value", "annotation", "where"),
    [
        ({"name": "s", "points": [{"x": "1"}]}, Shape, "argument.points[0].x"),
        ({"points": []}, Shape, "argument.name"),
        ([1, "2"], list[int], "argument[1]"),
        ({"a": "x"}, dict[str, int], "argument['a']"),
        (True, int, "argument"),
        (None, int, "argument"),
        ("x", int | None, "argument"),
    ],
)
def test_a_body_that_does_not_fit_names_the_field(
    value: object, annotation: object, where: str
) -> None:
    with pytest.raises(ConversionError) as info:
        from_plain(value, annotation)
    assert str(info.value).startswith(where)
