"""Decoded gob values (plain: structs as dicts of Go field names) into the Python type
asked for, matching struct fields by their Go names as Go does: fields the sender has
and we do not are skipped, fields we have and it did not send keep their defaults."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import types
import typing
from typing import Any

from ._errors import GobError
from ._time import decode_time
from ._types import Array, go_name

__all__ = ["convert"]

_EXACT = frozenset((str, bytes, float, complex))  # int and bool need the checks below


def convert(value: Any, annotation: Any) -> Any:
    if annotation is type(value) and annotation in _EXACT:  # what was asked: the usual case
        return value
    if annotation is Any or annotation is object:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:  # UINT and Array change the wire, not the value
        return convert(value, args[0])
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        rest = [a for a in args if a is not type(None)]
        return convert(value, rest[0]) if len(rest) == 1 else value
    if annotation is datetime.datetime:
        if not isinstance(value, bytes):
            raise GobError(f"a time.Time expected, got {type(value).__name__}")
        return decode_time(value)
    if annotation is bool:
        return _expect(value, bool, "a bool")
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GobError(f"an integer expected, got {type(value).__name__}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GobError(f"a float expected, got {type(value).__name__}")
        return float(value)
    if annotation is complex:
        return complex(_expect(value, complex | float | int, "a complex"))
    if annotation is str:
        return _expect(value, str, "a string")
    if annotation in (bytes, bytearray):
        return annotation(_expect(value, bytes, "a []byte"))
    if origin in (list, tuple) or annotation in (list, tuple):
        items = _expect(value, list, "a slice")
        item = args[0] if args else Any
        converted = [convert(v, item) for v in items]
        return tuple(converted) if origin is tuple or annotation is tuple else converted
    if origin is dict or annotation is dict:
        found = _expect(value, dict, "a map")
        key, item = args if args else (Any, Any)
        return {convert(k, key): convert(v, item) for k, v in found.items()}
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if isinstance(value, annotation):
            return value  # an interface value already made into its registered class
        fields = _expect(value, dict, f"a {annotation.__name__} struct")
        given = {}
        for name, attribute, hint, required in _plan(annotation):
            if name in fields:
                given[attribute] = convert(fields[name], hint)
            elif required:
                given[attribute] = zero(hint)  # gob omits zero fields
        try:
            return annotation(**given)
        except TypeError as exc:
            raise GobError(f"cannot make a {annotation.__name__}: {exc}") from None
    raise GobError(f"cannot decode into {annotation!r}")


def _expect(value: Any, kind: Any, what: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise GobError(f"{what} expected, got {type(value).__name__}")
    return value


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, str, Any, bool], ...]:
    """Per field of a dataclass: its Go name, its name, its annotation, and whether it
    has no default (a field gob left out then gets Go's zero value)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple((go_name(f), f.name, hints[f.name], _required(f)) for f in dataclasses.fields(cls))


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


_ZEROS: dict[Any, Any] = {bool: False, int: 0, float: 0.0, complex: 0j, str: "", bytes: b""}


def zero(annotation: Any) -> Any:
    """Go's zero value of a field gob left out, for a dataclass field without a
    default."""
    if annotation in _ZEROS:
        return _ZEROS[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        for mark in args[1:]:
            if isinstance(mark, Array):
                return [zero(typing.get_args(args[0])[0]) for _ in range(mark.length)]
        return zero(args[0])
    if origin in (list, tuple) or annotation in (list, tuple):
        return [] if origin is list or annotation is list else ()
    if origin is dict or annotation is dict:
        return {}
    if annotation is datetime.datetime:
        return datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)  # Go's zero time
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return convert({}, annotation)
    return None  # a pointer, an interface
