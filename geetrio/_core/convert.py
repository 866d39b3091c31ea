"""Plain values to and from annotated Python types — one module for RPC and Gee.

``to_plain`` turns dataclasses (nested), lists, tuples and dicts into JSON values;
``from_plain(value, annotation)`` builds the annotated type back — dataclasses, nested
dataclasses, ``list[...]``, ``dict[str, ...]``, ``int``, ``float``, ``str``, ``bool``,
``X | None``, ``typing.Any`` (no annotation: the JSON value as it is);
``from_strings`` does the same from a query string or a form (every value a string);
``decode_json`` parses and converts a JSON body in one step, through msgspec's typed
decoder when the type is one it takes (12x faster than ``json.loads`` + ``from_plain``).

A value that does not fit raises ``ConversionError``, whose ``problems`` name the path
of every field that does not fit (up to ``MAX_PROBLEMS``), e.g.
``[("items[0].qty", "expected int, got string 'x'")]``. A dataclass's ``__post_init__``
raising ``ValueError`` or ``TypeError`` is such a problem too: a place for validation.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import msgspec

from .netjson import JSONError, loads

__all__ = ["MAX_PROBLEMS", "ConversionError", "bounded", "decode_json", "from_plain"]
__all__ += ["from_strings", "to_plain"]

MAX_PROBLEMS = 20
"""Problems one error reports at most (a hostile list of a million bad items stops here)."""

MAX_STRING_DEPTH = 32
"""Nested dataclasses ``from_strings`` reads at most (``a.b.c=``: three)."""

_NONE = type(None)
_BARE: dict[Any, Any] = {dict: dict[str, Any], list: list[Any]}
_INT = re.compile(r"[+-]?[0-9]+\Z")
_BOOLS = {"true": True, "1": True, "on": True, "yes": True}
_BOOLS |= {"false": False, "0": False, "off": False, "no": False}


class ConversionError(ValueError):
    """A value that does not fit its annotation. ``problems``: (path, message) pairs,
    one per field that does not fit; the text joins them."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems) or (("", message),)


def _error(problems: Sequence[tuple[str, str]]) -> ConversionError:
    text = "; ".join(f"{path}: {message}" if path else message for path, message in problems)
    return ConversionError(text, problems)


def _one(path: str, message: str) -> ConversionError:
    return _error([(path, message)])


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


def from_plain(value: Any, annotation: Any, path: str = "", *, fold_case: bool = True) -> Any:
    """``value`` (decoded JSON) as an instance of ``annotation``. ``fold_case``: a
    dataclass field without its exact key takes one equal but for case, as Go's
    encoding/json does (RPC peers written in Go send ``{"Num1": 1}``)."""
    if annotation is Any or annotation is dataclasses.MISSING:
        return value
    if annotation is dict or annotation is list:  # bare: any JSON object / array
        annotation = _BARE[annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return _union(value, annotation, path, fold_case)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        if not isinstance(value, list):
            raise _one(path, f"expected a list, got {_describe(value)}")
        each = partial(from_plain, annotation=item, fold_case=fold_case)
        return _collect(((f"{path}[{i}]", v) for i, v in enumerate(value)), each)
    if origin is dict:
        key_type, item = typing.get_args(annotation) or (str, Any)
        if key_type is not str:
            raise _one(path, "only dict[str, ...] maps to a JSON object")
        if not isinstance(value, dict):
            raise _one(path, f"expected an object, got {_describe(value)}")
        each = partial(from_plain, annotation=item, fold_case=fold_case)
        found = _collect(((f"{path}[{k!r}]", v) for k, v in value.items()), each)
        return dict(zip(value, found, strict=True))
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass(value, annotation, path, fold_case)
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
        raise _one(path, f"cannot decode into {_name(annotation)}")
    raise _one(path, f"expected {_name(annotation)}, got {_describe(value)}")


def _union(value: Any, annotation: Any, path: str, fold_case: bool) -> Any:
    options = typing.get_args(annotation)
    if value is None:
        if _NONE in options:
            return None
        raise _one(path, f"null is not a {_name(annotation)}")
    others = [option for option in options if option is not _NONE]
    if len(others) == 1:  # X | None: X's own problems, with their paths
        return from_plain(value, others[0], path, fold_case=fold_case)
    for option in others:
        try:
            return from_plain(value, option, path, fold_case=fold_case)
        except ConversionError:
            continue  # the next option may fit
    raise _one(path, f"{_describe(value)} fits none of {_name(annotation)}")


def _collect(items: Iterable[tuple[str, Any]], convert: Callable[..., Any]) -> list[Any]:
    """``convert(value, path=path)`` of every (path, value); every one that does not
    fit is reported (up to ``MAX_PROBLEMS``)."""
    out = []
    problems: list[tuple[str, str]] = []
    for path, value in items:
        try:
            out.append(convert(value, path=path))
        except ConversionError as exc:
            problems.extend(exc.problems)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise _error(problems[:MAX_PROBLEMS])
    return out


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


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _dataclass(value: Any, cls: type, path: str, fold_case: bool) -> Any:
    if not isinstance(value, dict):
        raise _one(path, f"expected an object for {cls.__name__}, got {_describe(value)}")
    kwargs = {}
    problems: list[tuple[str, str]] = []
    folded: dict[str, str] | None = None
    for name, annotation, required in _fields(cls):
        if name in value:
            item = value[name]
        else:
            key = None
            if fold_case:
                # Go's encoding/json: an exact key first, then one equal but for case;
                # the last such key wins, as Go assigns keys in order.
                if folded is None:
                    folded = {str(k).lower(): k for k in value}
                key = folded.get(name.lower())
            if key is None:
                if required:
                    problems.append((_at(path, name), f"missing (a {_name(annotation)})"))
                continue
            item = value[key]
        # the common scalar cases inline; the rest through from_plain
        if (annotation is int and type(item) is int) or (annotation is str and type(item) is str):
            kwargs[name] = item
            continue
        try:
            kwargs[name] = from_plain(item, annotation, _at(path, name), fold_case=fold_case)
        except ConversionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise _error(problems[:MAX_PROBLEMS])
    return _build(cls, kwargs, path)  # unknown keys are ignored, as Go's encoding/json does


def _build(cls: type, kwargs: dict[str, Any], path: str) -> Any:
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # __post_init__ validation
        raise _one(path, str(exc) or type(exc).__name__) from None


# ----------------------------------------------------------------- query strings, forms


def from_strings(
    values: Mapping[str, Sequence[str]], cls: type, path: str = "", depth: int = 0
) -> Any:
    """The dataclass ``cls`` from string values (``parse_qs``-shaped: every key to its
    list of values). A scalar field takes the first value (an empty one counts as
    absent), a ``list[...]`` field every value of ``name`` or ``name[]``, a nested
    dataclass the keys under ``name.``; ``bool`` reads true/false, 1/0, on/off, yes/no.
    Nested at most ``MAX_STRING_DEPTH`` deep (each level filters every key: a hostile
    form must not make that quadratic). Raises ``TypeError`` for a field type no string
    can fill (a programming error)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"binding from strings needs a dataclass, not {_name(cls)}")
    if depth > MAX_STRING_DEPTH:
        raise _one(path, "nested too deeply")
    kwargs: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, annotation, required in _fields(cls):
        where = _at(path, name)
        inner, optional = _unwrap_optional(annotation)
        try:
            if isinstance(inner, type) and dataclasses.is_dataclass(inner):
                prefix = name + "."
                nested = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
                if nested:
                    kwargs[name] = from_strings(nested, inner, where, depth + 1)
                elif optional:
                    kwargs[name] = None
                elif required:
                    problems.append((where, f"missing (a {_name(inner)})"))
                continue
            if typing.get_origin(inner) is list or inner is list:
                (item,) = typing.get_args(inner) or (str,)
                found = [*values.get(name, ()), *values.get(name + "[]", ())]
                if found:
                    items = ((f"{where}[{i}]", v) for i, v in enumerate(found))
                    kwargs[name] = _collect(items, partial(_scalar, annotation=item))
                elif required:
                    problems.append((where, f"missing (a {_name(inner)})"))
                continue
            given = values.get(name)
            text = given[0] if given else ""
            if text == "" and inner is not str and inner is not Any:
                if optional:
                    kwargs[name] = None
                elif required:
                    problems.append((where, f"missing (a {_name(inner)})"))
                continue
            if not given:
                if required:
                    problems.append((where, f"missing (a {_name(inner)})"))
                continue
            kwargs[name] = _scalar(text, inner, where)
        except ConversionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise _error(problems[:MAX_PROBLEMS])
    return _build(cls, kwargs, path)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in typing.get_args(annotation) if a is not _NONE]
        if len(options) == 1:
            return options[0], len(options) < len(typing.get_args(annotation))
        raise TypeError(f"cannot bind {_name(annotation)} from strings")
    return annotation, False


def _scalar(text: str, annotation: Any, path: str) -> Any:
    if annotation is str or annotation is Any:
        return text
    if annotation is int:
        if _INT.match(text) and len(text) <= 100:
            return int(text)
    elif annotation is float:
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number) and "_" not in text:
                return number
    elif annotation is bool:
        found = _BOOLS.get(text.lower())
        if found is not None:
            return found
    else:
        raise TypeError(f"cannot bind {_name(annotation)} from strings")
    raise _one(path, f"expected {_name(annotation)}, got {_describe(text)}")


# ----------------------------------------------------------------- JSON bodies


def decode_json(data: bytes, annotation: Any, path: str = "") -> Any:
    """Parse the JSON document ``data`` into ``annotation`` (exact keys, no case
    folding). msgspec decodes and converts in one pass; when it refuses the value, the
    general path decides and names every problem (they are rare, so it may be slow)."""
    decoder = _decoder(annotation)
    if decoder is not None:
        try:
            return decoder.decode(data)
        except msgspec.ValidationError:
            pass  # the general path below names every field that does not fit
        except msgspec.DecodeError as exc:
            raise _one(path, f"not valid JSON: {exc}") from None
        except RecursionError:
            raise _one(path, "nested too deeply") from None
    try:
        value = loads(data)
    except JSONError as exc:
        raise _one(path, f"not valid JSON: {exc}") from None
    return bounded(from_plain, value, annotation, path, fold_case=False)


def bounded(convert: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``convert(*args, **kwargs)``, with a value nested deeper than the interpreter's
    recursion limit refused as a ``ConversionError`` (a self-referential dataclass
    meets a hostile document or query string) instead of a ``RecursionError``."""
    try:
        return convert(*args, **kwargs)
    except RecursionError:
        raise _one("", "nested too deeply") from None


def _decoder(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    try:
        return _decoders(annotation)
    except TypeError:  # unhashable: no cache, no fast path
        return None


@functools.cache
def _decoders(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    try:
        return msgspec.json.Decoder(annotation)
    except (TypeError, NameError, ValueError):  # a type msgspec does not take
        return None


# ----------------------------------------------------------------- messages


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
