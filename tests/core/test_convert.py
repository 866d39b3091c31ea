"""``_core.convert.decode_json``: msgspec's typed decoder is only a fast path — for any
JSON value it agrees with the general ``from_plain`` (same object, or both refuse), and
a refusal names the same fields whichever path found it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geetrio._core.convert import ConversionError, decode_json, from_plain, from_strings


@dataclass
class Leaf:
    n: int
    x: float = 0.0


@dataclass
class Tree:
    name: str
    leaves: list[Leaf]
    tags: dict[str, bool] = field(default_factory=dict)
    parent: Leaf | None = None
    anything: Any = None


scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=5)
scalars |= st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
# each field mostly of its type, sometimes anything: both outcomes are common
leaf = st.fixed_dictionaries(
    {"n": st.integers() | st.integers() | values},
    optional={"x": st.floats(allow_nan=False, allow_infinity=False) | st.integers() | values},
)
tree = st.fixed_dictionaries(
    {"name": st.text(max_size=5) | values, "leaves": st.lists(leaf, max_size=3)},
    optional={
        "tags": st.dictionaries(st.text(max_size=3), st.booleans() | values, max_size=2),
        "parent": leaf | st.none(),
        "anything": values,
    },
)
trees = tree | tree | tree | values


outcomes: set[str] = set()


def general(value: Any) -> Any:
    return from_plain(value, Tree, fold_case=False)


@settings(max_examples=400, deadline=None)
@given(trees)
def test_the_fast_path_agrees_with_the_general_one(value: Any) -> None:
    data = json.dumps(value).encode()
    try:
        expected = general(value)
        outcomes.add("fits")
    except ConversionError as exc:
        outcomes.add("refused")
        with pytest.raises(ConversionError) as info:
            decode_json(data, Tree)
        assert info.value.problems == exc.problems
    else:
        assert decode_json(data, Tree) == expected


def test_both_outcomes_were_tried() -> None:
    test_the_fast_path_agrees_with_the_general_one()
    assert outcomes == {"fits", "refused"}


def test_from_strings_refuses_types_no_string_fills() -> None:
    @dataclass
    class Bad:
        tags: dict[str, str]

    with pytest.raises(TypeError, match="cannot bind"):
        from_strings({"tags": ["x"]}, Bad)
    with pytest.raises(TypeError, match="needs a dataclass"):
        from_strings({}, int)
