"""Go types as gob describes them, and how Python annotations map onto them.

``GoType`` is one type: a basic kind (bool, int, uint, float, complex, string, bytes,
interface), a composite (slice, array, map, struct) or ``time`` (``time.Time``, sent
through its ``GobEncode`` form). ``go_type(annotation)`` gives the type of a Python
annotation: ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``,
``datetime.datetime``, ``list[X]``, ``dict[K, V]``, a dataclass (a struct), ``X |
None`` (a pointer: gob flattens it to ``X``), ``Any`` (an interface), and
``Annotated[int, UINT]`` / ``Annotated[list[X], Array(n)]`` for Go's unsigned integers
and arrays. A dataclass field ``num1`` is the Go field ``Num1`` (Go sends exported,
capitalised names; ``service_method`` is ``ServiceMethod``);
``field(metadata={"gob": "HTTPCode"})`` names it otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import GobError

__all__ = [
    "BASIC_IDS",
    "FIRST_USER_ID",
    "UINT",
    "Array",
    "Field",
    "GoType",
    "go_name",
    "go_type",
]

BASIC_IDS = {
    "bool": 1,
    "int": 2,
    "uint": 3,
    "float": 4,
    "bytes": 5,
    "string": 6,
    "complex": 7,
    "interface": 8,
}
FIRST_USER_ID = 65  # as Go: ids below are predefined or reserved


class _Uint:
    def __repr__(self) -> str:
        return "UINT"


UINT = _Uint()
"""``Annotated[int, UINT]``: a Go unsigned integer (``uint``, ``uint64``, ...)."""


@dataclass(frozen=True)
class Array:
    """``Annotated[list[X], Array(3)]``: a Go array ``[3]X``."""

    length: int


@dataclass(frozen=True)
class Field:
    go_name: str
    py_name: str
    type: GoType


@dataclass(eq=False)
class GoType:
    kind: str
    name: str = ""
    elem: GoType | None = None
    key: GoType | None = None
    length: int = 0
    fields: tuple[Field, ...] = ()
    cls: type | None = None  # the dataclass of a struct

    def __repr__(self) -> str:
        return f"GoType({self.kind} {self.name})"


BASIC = {kind: GoType(kind, kind) for kind in BASIC_IDS}
TIME = GoType("time", "Time")
_PLAIN: dict[Any, GoType] = {
    bool: BASIC["bool"],
    int: BASIC["int"],
    float: BASIC["float"],
    complex: BASIC["complex"],
    str: BASIC["string"],
    bytes: BASIC["bytes"],
    bytearray: BASIC["bytes"],
    datetime.datetime: TIME,
    Any: BASIC["interface"],
    object: BASIC["interface"],
}
_cache: dict[Any, GoType] = {}


def go_name(field: dataclasses.Field[Any]) -> str:
    """The Go name of a dataclass field: its ``gob`` metadata, else its snake_case
    words capitalised and joined (``num1`` -> ``Num1``, ``service_method`` ->
    ``ServiceMethod``: Go sends exported fields only, in CamelCase)."""
    named = field.metadata.get("gob")
    if isinstance(named, str) and named:
        return named
    return "".join(word[:1].upper() + word[1:] for word in field.name.split("_"))


def go_type(annotation: Any) -> GoType:
    """The Go type of a Python annotation (``GobError`` for one gob cannot carry)."""
    try:
        found = _cache.get(annotation)
    except TypeError:  # unhashable annotations are not cached
        found = None
    if found is not None:
        return found
    made = _make(annotation)
    with contextlib.suppress(TypeError):  # unhashable: not cached
        _cache[annotation] = made
    return made


def _make(annotation: Any) -> GoType:
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner, *marks = args
        for mark in marks:
            if mark is UINT and inner is int:
                return BASIC["uint"]
            if isinstance(mark, Array):
                elem = go_type(_sequence_item(inner))
                return GoType("array", f"[{mark.length}]{elem.name}", elem, length=mark.length)
        return go_type(inner)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return go_type(rest[0])  # a pointer: gob sends what it points to
        raise GobError(f"gob has no union type: {annotation!r}")
    if origin in (list, Sequence, tuple) or annotation in (list, tuple):
        elem = go_type(_sequence_item(annotation))
        return GoType("slice", f"[]{elem.name}", elem)
    if origin in (dict, Mapping) or annotation is dict:
        key, value = (go_type(a) for a in args) if args else (BASIC["string"], BASIC["interface"])
        return GoType("map", f"map[{key.name}]{value.name}", value, key)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _struct(annotation)
    raise GobError(f"no gob type for {annotation!r}")


def _sequence_item(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        raise GobError(f"only tuple[X, ...] is a gob slice, not {annotation!r}")
    return args[0] if args else Any


def _struct(cls: type) -> GoType:
    made = GoType("struct", cls.__name__, cls=cls)
    _cache[cls] = made  # before the fields: a struct may refer to itself
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = []
    for field in dataclasses.fields(cls):
        fields.append(Field(go_name(field), field.name, go_type(hints[field.name])))
    made.fields = tuple(fields)
    return made
