"""``Encoder``: Python values as a gob stream, sans-IO. One encoder per stream (a
connection): it sends each type's definition once, before the first value that needs
it, as Go's encoder does; ``encode`` returns the bytes to write."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from ._errors import GobError
from ._time import encode_time
from ._types import BASIC, BASIC_IDS, FIRST_USER_ID, GoType, go_type
from ._wire import put_bytes, put_float, put_int, put_uint

__all__ = ["MAX_DEPTH", "Encoder", "register", "registered_name"]

MAX_DEPTH = 100  # nesting of a value (and of a type) either way

_names: dict[str, type] = {}  # gob.Register: interface values' concrete types
_types: dict[type, str] = {}


def register(name: str, cls: type) -> None:
    """Let values of ``cls`` travel in interface fields as Go's ``name`` (what Go's
    ``gob.Register`` uses: ``"main.Point"`` for a ``Point`` of package main)."""
    if not name:
        raise ValueError("a registered name must not be empty")
    go_type(cls)  # a type gob can carry, or GobError now
    _names[name] = cls
    _types[cls] = name


def registered_name(value: Any) -> tuple[str, GoType]:
    """The name and type an interface value travels as."""
    cls = type(value)
    name = _types.get(cls)
    if name is not None:
        return name, go_type(cls)
    basic = _BASIC_NAMES.get(cls)
    if basic is not None:
        return basic
    raise GobError(f"a {cls.__name__} in an interface field: register it (gob.register)")


_BASIC_NAMES = {  # Go registers its basic types under these names
    bool: ("bool", BASIC["bool"]),
    int: ("int", BASIC["int"]),
    float: ("float64", BASIC["float"]),
    complex: ("complex128", BASIC["complex"]),
    str: ("string", BASIC["string"]),
    bytes: ("[]uint8", BASIC["bytes"]),
}


class Encoder:
    """>>> encoder = Encoder(); data = encoder.encode(Args(1, 2))  # doctest: +SKIP"""

    def __init__(self) -> None:
        self._ids: dict[GoType, int] = {}
        self._next_id = FIRST_USER_ID

    def snapshot(self) -> tuple[int, int]:
        """The stream's type state now, for ``restore`` (messages built after it but
        never sent must not leave their types counted as sent)."""
        return self._next_id, len(self._ids)

    def restore(self, state: tuple[int, int]) -> None:
        next_id, count = state
        for kind in list(self._ids)[count:]:
            del self._ids[kind]
        self._next_id = next_id

    def encode(self, value: Any, annotation: Any = None) -> bytes:
        """One value as its type definitions not sent yet, then its message. Its type
        is ``annotation``'s, else the value's own (``GobError`` when gob cannot carry
        it)."""
        state = self.snapshot()
        try:
            return self._encode(value, annotation)
        except BaseException:
            self.restore(state)  # no definition of this message was sent
            raise

    def _encode(self, value: Any, annotation: Any) -> bytes:
        kind = go_type(type(value) if annotation is None else annotation)
        definitions = bytearray()
        body = bytearray()
        put_int(body, self._define(kind, definitions, 0))
        if kind.kind == "struct":
            self._struct(kind, value, body, definitions, 0)
        else:  # a top-level non-struct travels as a struct of one field, number 0
            body.append(0)
            self._value(kind, value, body, definitions, 0)
        framed = bytearray(definitions)
        put_uint(framed, len(body))
        framed += body
        return bytes(framed)

    # ------------------------------------------------------------------ types

    def _define(self, kind: GoType, out: bytearray, depth: int) -> int:
        """``kind``'s id, its definition (and its parts') written to ``out`` first."""
        basic = BASIC_IDS.get(kind.kind)
        if basic is not None:
            return basic
        known = self._ids.get(kind)
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise GobError(f"a type nested over {MAX_DEPTH} deep")
        type_id = self._ids[kind] = self._next_id
        self._next_id += 1
        wire = bytearray()
        if kind.kind == "slice":
            assert kind.elem is not None
            elem = self._define(kind.elem, out, depth + 1)
            wire.append(2)  # wireType.SliceT
            _common(wire, "", type_id)
            wire += b"\x01"
            put_int(wire, elem)
            wire.append(0)
        elif kind.kind == "array":
            assert kind.elem is not None
            elem = self._define(kind.elem, out, depth + 1)
            wire.append(1)  # wireType.ArrayT
            _common(wire, kind.name, type_id)
            wire.append(1)
            put_int(wire, elem)
            if kind.length:
                wire.append(1)
                put_int(wire, kind.length)
            wire.append(0)
        elif kind.kind == "map":
            assert kind.elem is not None and kind.key is not None
            key = self._define(kind.key, out, depth + 1)
            elem = self._define(kind.elem, out, depth + 1)
            wire.append(4)  # wireType.MapT
            _common(wire, kind.name, type_id)
            wire.append(1)
            put_int(wire, key)
            wire.append(1)
            put_int(wire, elem)
            wire.append(0)
        elif kind.kind == "struct":
            ids = [self._define(f.type, out, depth + 1) for f in kind.fields]
            wire.append(3)  # wireType.StructT
            _common(wire, kind.name, type_id)
            if kind.fields:
                wire.append(1)  # structType.Field
                put_uint(wire, len(kind.fields))
                for field, field_id in zip(kind.fields, ids, strict=True):
                    wire.append(1)
                    put_bytes(wire, field.go_name.encode())
                    wire.append(1)
                    put_int(wire, field_id)
                    wire.append(0)
            wire.append(0)
        elif kind.kind == "time":
            wire.append(5)  # wireType.GobEncoderT
            _common(wire, kind.name, type_id)
            wire.append(0)
        else:
            raise GobError(f"no gob definition for {kind!r}")
        wire.append(0)  # the end of the wireType
        message = bytearray()
        put_int(message, -type_id)
        message += wire
        put_uint(out, len(message))
        out += message
        return type_id

    # ------------------------------------------------------------------ values

    def _value(self, kind: GoType, value: Any, out: bytearray, defs: bytearray, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise GobError(f"a value nested over {MAX_DEPTH} deep")
        name = kind.kind
        try:
            if name == "int":
                put_int(out, _integer(value))
            elif name == "string":
                put_bytes(out, value.encode("utf-8", "surrogateescape"))
            elif name == "bool":
                out.append(1 if value else 0)
            elif name == "uint":
                put_uint(out, _integer(value))
            elif name == "float":
                put_float(out, float(value))
            elif name == "bytes":
                put_bytes(out, bytes(value))
            elif name == "complex":
                number = complex(value)
                put_float(out, number.real)
                put_float(out, number.imag)
            elif name == "struct":
                self._struct(kind, value, out, defs, depth)
            elif name in ("slice", "array"):
                assert kind.elem is not None
                items = list(value)
                if name == "array" and len(items) != kind.length:
                    raise GobError(f"an array of {kind.length} given {len(items)} items")
                put_uint(out, len(items))
                for item in items:
                    self._value(kind.elem, item, out, defs, depth + 1)
            elif name == "map":
                assert kind.elem is not None and kind.key is not None
                put_uint(out, len(value))
                for key, item in value.items():
                    self._value(kind.key, key, out, defs, depth + 1)
                    self._value(kind.elem, item, out, defs, depth + 1)
            elif name == "time":
                if not isinstance(value, datetime.datetime):
                    raise GobError(f"a time.Time must be a datetime, not {type(value).__name__}")
                put_bytes(out, encode_time(value))
            elif name == "interface":
                self._interface(value, out, defs, depth)
            else:
                raise GobError(f"cannot encode a {name}")
        except (TypeError, AttributeError, UnicodeError) as exc:
            raise GobError(f"cannot encode {type(value).__name__} as {kind.name}: {exc}") from None

    def _struct(
        self, kind: GoType, value: Any, out: bytearray, defs: bytearray, depth: int
    ) -> None:
        if not dataclasses.is_dataclass(value) or (kind.cls and not isinstance(value, kind.cls)):
            raise GobError(
                f"a {kind.name} struct must be a {kind.name}, not {type(value).__name__}"
            )
        last = -1
        for number, field in enumerate(kind.fields):
            item = getattr(value, field.py_name)
            if item is None or (field.type.kind not in _ALWAYS_SENT and _zero(item)):
                continue  # gob omits zero fields (and nil pointers)
            put_uint(out, number - last)
            last = number
            self._value(field.type, item, out, defs, depth + 1)
        out.append(0)

    def _interface(self, value: Any, out: bytearray, defs: bytearray, depth: int) -> None:
        if value is None:
            out.append(0)  # a nil interface: the empty name, nothing else
            return
        name, kind = registered_name(value)
        put_bytes(out, name.encode())
        put_int(out, self._define(kind, defs, depth + 1))
        inner = bytearray()
        if kind.kind == "struct":
            self._struct(kind, value, inner, defs, depth + 1)
        else:
            inner.append(0)
            self._value(kind, value, inner, defs, depth + 1)
        put_uint(out, len(inner))
        out += inner


_ALWAYS_SENT = frozenset(("struct", "interface"))  # a false in an interface is not nil


def _common(out: bytearray, name: str, type_id: int) -> None:
    """A ``CommonType`` field of a type definition: its name (when it has one) and id."""
    out.append(1)  # the definition's field 0: CommonType
    if name:
        out.append(1)
        put_bytes(out, name.encode())
        out.append(1)
    else:
        out.append(2)
    put_int(out, type_id)
    out.append(0)


def _integer(value: Any) -> int:
    if isinstance(value, float) or not hasattr(value, "__index__"):
        raise TypeError(f"{type(value).__name__} is not an integer")
    return int(value)


def _zero(value: Any) -> bool:
    if isinstance(value, datetime.datetime):
        return False
    try:
        return not value
    except Exception:  # a value with no truth: not zero
        return False
