"""Plain JSON values to and from annotated Python types (imports only the errors).

``to_plain`` turns dataclasses (nested), lists, tuples and dicts into JSON values;
``from_plain(value, annotation)`` builds the annotated type back — dataclasses, nested
dataclasses, ``list[...]``, ``dict[str, ...]``, ``int``, ``float``, ``str``, ``bool``,
``X | None``, ``typing.Any`` (no annotation: the JSON value as it is) — and raises
``ConversionError`` naming the path of the field that does not fit.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

from ._errors import RPCError

__all__ = ["ConversionError", "from_plain", "to_plain"]

_NONE = type(None)
_BARE: dict[Any, Any] = {dict: dict[str, Any], list: list[Any]}


class ConversionError(RPCError, ValueError):
    """A value that does not fit its annotation; the message names the field."""


def to_plain(obj: Any) -> Any:
    """A JSON-ready value: dataclasses as objects (field order kept), tuples as lists."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: to_plain(getattr(obj, name)) for name in _names(type(obj))}
    if isinstance(obj, list | tuple):
        return [to_plain(item) for item in obj]
    if isinstance(obj, dict):
        return {str(key): to_plain(value) for key, value in obj.items()}
    raise ConversionError(f"cannot encode a {type(obj).__name__} as JSON")


def from_plain(value: Any, annotation: Any, path: str = "argument") -> Any:
    """``value`` (decoded JSON) as an instance of ``annotation``."""
    if annotation is Any or annotation is dataclasses.MISSING:
        return value
    if annotation is dict or annotation is list:  # bare: any JSON object / array
        annotation = _BARE[annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(annotation)
        if value is None:
            if _NONE in options:
                return None
            raise ConversionError(f"{path}: null is not a {_name(annotation)}")
        for option in options:
            if option is _NONE:
                continue
            try:
                return from_plain(value, option, path)
            except ConversionError:
                continue  # the next option may fit
        raise ConversionError(f"{path}: {_describe(value)} fits none of {_name(annotation)}")
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        if not isinstance(value, list):
            raise ConversionError(f"{path}: expected a list, got {_describe(value)}")
        return [from_plain(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_type, item = typing.get_args(annotation) or (str, Any)
        if key_type is not str:
            raise ConversionError(f"{path}: only dict[str, ...] maps to a JSON object")
        if not isinstance(value, dict):
            raise ConversionError(f"{path}: expected an object, got {_describe(value)}")
        return {k: from_plain(v, item, f"{path}[{k!r}]") for k, v in value.items()}
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass(value, annotation, path)
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif annotation is _NONE or annotation is None:
        if value is None:
            return None
    else:
        raise ConversionError(f"{path}: cannot decode into {_name(annotation)}")
    raise ConversionError(f"{path}: expected {_name(annotation)}, got {_describe(value)}")


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, annotation, required) of a dataclass's init fields, resolved once: the
    annotations may be strings, and ``get_type_hints`` costs more than the decoding."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints.get(f.name, Any),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def _dataclass(value: Any, cls: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise ConversionError(
            f"{path}: expected an object for {cls.__name__}, got {_describe(value)}"
        )
    kwargs = {}
    folded: dict[str, str] | None = None
    for name, annotation, required in _fields(cls):
        if name in value:
            item = value[name]
        else:
            # Go's encoding/json: an exact key first, then one equal but for case
            # (a Go client sends {"Num1": 1} for a Python field num1); the last such
            # key wins, as Go assigns keys in order.
            if folded is None:
                folded = {str(k).lower(): k for k in value}
            key = folded.get(name.lower())
            if key is None:
                if required:
                    raise ConversionError(f"{path}.{name}: missing (a {_name(annotation)})")
                continue
            item = value[key]
        # the common scalar cases inline; the rest through from_plain
        if (annotation is int and type(item) is int) or (annotation is str and type(item) is str):
            kwargs[name] = item
        else:
            kwargs[name] = from_plain(item, annotation, f"{path}.{name}")
    return cls(**kwargs)  # unknown keys are ignored, as Go's encoding/json does


def _name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _describe(value: Any) -> str:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    kind = {dict: "object", list: "list", str: "string", bool: "bool"}.get(type(value))
    kind = kind or ("null" if value is None else type(value).__name__)
    return f"{kind} {shown}"
