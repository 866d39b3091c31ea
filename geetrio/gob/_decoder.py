"""``Decoder``: a gob stream into Python values, sans-IO, facing the network. Feed it
bytes; ``next(annotation)`` gives the next value converted to ``annotation`` (or
``NEED_MORE``), learning the type definitions that come before it.

Bounded everywhere: a message over ``max_message_bytes``, more than ``max_types``
definitions, an id defined twice or used undefined, a collection longer than the bytes
left, a value or type nested over ``MAX_DEPTH``, or a malformed integer is a
``GobError`` — the stream is then unusable (gob has no resynchronisation).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from ._convert import convert
from ._encoder import MAX_DEPTH, _names
from ._errors import GobError
from ._types import BASIC_IDS, FIRST_USER_ID
from ._wire import Reader

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "DEFAULT_MAX_TYPES", "NEED_MORE", "Decoder", "Wire"]

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_TYPES = 10_000


class _NeedMore:
    def __repr__(self) -> str:
        return "NEED_MORE"


NEED_MORE: Final = _NeedMore()
_BASIC_KINDS = {number: kind for kind, number in BASIC_IDS.items()}


@dataclass
class Wire:
    """A type the stream defined: ``kind`` is slice, array, map, struct or encoder."""

    kind: str
    name: str = ""
    elem: int = 0
    key: int = 0
    length: int = 0
    fields: tuple[tuple[str, int], ...] = ()


class Decoder:
    def __init__(
        self,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_types: int = DEFAULT_MAX_TYPES,
    ) -> None:
        self.max_message_bytes = max_message_bytes
        self.max_types = max_types
        self._buffer = bytearray()
        self._wire: dict[int, Wire] = {}

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next(self, annotation: Any = Any) -> Any:
        """The next value as ``annotation`` (plain values for ``Any``: structs as dicts
        of their Go field names), or ``NEED_MORE`` until its bytes have all come."""
        raw = self.next_raw()
        if raw is NEED_MORE:
            return NEED_MORE
        return self.decode_raw(raw, annotation)

    def next_raw(self) -> Any:
        """The next value's message, undecoded (``decode_raw`` reads it later), the
        type definitions before it learnt; or ``NEED_MORE``."""
        while True:
            message = self._message()
            if message is None:
                return NEED_MORE
            reader = Reader(message)
            type_id = reader.sint()
            if type_id >= 0:
                return message
            self._define(-type_id, reader)

    def decode_raw(self, message: bytes, annotation: Any = Any) -> Any:
        """A message ``next_raw`` gave, as ``annotation`` (types only ever get added to
        a stream, so it may be decoded after later messages were read)."""
        reader = Reader(message)
        plain = self._top(reader.sint(), reader)
        if reader.left:
            raise GobError(f"{reader.left} bytes left over after a value")
        return convert(plain, annotation)

    def _message(self) -> bytes | None:
        buffer = self._buffer
        if not buffer:
            return None
        first = buffer[0]
        width = 1 if first < 128 else 1 + 256 - first
        if width > 9:
            raise GobError("a message length of more than 8 bytes")
        if len(buffer) < width:
            return None
        size = Reader(bytes(buffer[:width])).uint()
        if size == 0 or size > self.max_message_bytes:
            raise GobError(f"a message of {size} bytes (at most {self.max_message_bytes})")
        if len(buffer) < width + size:
            return None
        message = bytes(buffer[width : width + size])
        del buffer[: width + size]
        return message

    # ------------------------------------------------------------------ types

    def _define(self, type_id: int, reader: Reader) -> None:
        if type_id < FIRST_USER_ID:
            raise GobError(f"a definition of the reserved type id {type_id}")
        if type_id in self._wire:
            raise GobError(f"type id {type_id} defined twice")
        if len(self._wire) >= self.max_types:
            raise GobError(f"more than {self.max_types} type definitions")
        wire = _read_struct(reader, 0, _WIRE_TYPE)
        (kind, body), *rest = wire.items() if wire else [("", {})]
        if rest or not kind:
            raise GobError("a type definition that is not exactly one kind")
        common = body.get("common", {})
        if common.get("id") != type_id:
            raise GobError(f"a definition of type {type_id} names id {common.get('id')}")
        name = common.get("name", "")
        if kind == "struct":
            fields = tuple((f.get("name", ""), f.get("id", 0)) for f in body.get("fields", []))
            self._wire[type_id] = Wire("struct", name, fields=fields)
        elif kind in ("slice", "array", "map"):
            self._wire[type_id] = Wire(
                kind, name, body.get("elem", 0), body.get("key", 0), body.get("len", 0)
            )
        else:  # GobEncoder, BinaryMarshaler, TextMarshaler: counted bytes
            self._wire[type_id] = Wire("encoder", name)
        if reader.left:
            raise GobError("bytes left over after a type definition")

    # ------------------------------------------------------------------ values

    def _top(self, type_id: int, reader: Reader, depth: int = 0) -> Any:
        """A value at the top of a message (or inside an interface)."""
        wire = self._wire.get(type_id)
        if wire is not None and wire.kind == "struct":
            return self._struct(wire, reader, depth)
        if reader.uint() != 0:
            raise GobError("a non-struct value without its field number 0")
        return self._value(type_id, reader, depth)

    def _value(self, type_id: int, reader: Reader, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise GobError(f"a value nested over {MAX_DEPTH} deep")
        basic = _BASIC_KINDS.get(type_id)
        if basic is not None:
            return self._basic(basic, reader, depth)
        wire = self._wire.get(type_id)
        if wire is None:
            raise GobError(f"a value of type id {type_id}, never defined")
        if wire.kind == "struct":
            return self._struct(wire, reader, depth)
        if wire.kind in ("slice", "array"):
            count = reader.count(wire.kind)
            if wire.kind == "array" and count != wire.length:
                raise GobError(f"an array of {wire.length} sent with {count} items")
            return [self._value(wire.elem, reader, depth + 1) for _ in range(count)]
        if wire.kind == "map":
            count = reader.count("a map", 2)
            found = {}
            for _ in range(count):
                key = self._value(wire.key, reader, depth + 1)
                try:
                    found[key] = self._value(wire.elem, reader, depth + 1)
                except TypeError:
                    raise GobError("a map key Python cannot hash") from None
            return found
        return reader.raw("a GobEncoder value")  # its bytes: the annotation says more

    def _basic(self, kind: str, reader: Reader, depth: int) -> Any:
        if kind == "int":
            return reader.sint()
        if kind == "string":
            return reader.raw("a string").decode("utf-8", "surrogateescape")
        if kind == "uint":
            return reader.uint()
        if kind == "bool":
            flag = reader.uint()
            if flag > 1:
                raise GobError(f"a bool of {flag}")
            return flag == 1
        if kind == "float":
            return reader.float()
        if kind == "bytes":
            return reader.raw("a []byte")
        if kind == "complex":
            return complex(reader.float(), reader.float())
        return self._interface(reader, depth)

    def _interface(self, reader: Reader, depth: int) -> Any:
        name = reader.raw("an interface's type name").decode("utf-8", "replace")
        if not name:
            return None
        type_id = reader.sint()
        size = reader.count("an interface value")
        inner = Reader(reader.data, reader.pos, reader.pos + size)
        reader.pos += size
        value = self._top(type_id, inner, depth + 1)
        if inner.left:
            raise GobError("bytes left over inside an interface value")
        cls = _names.get(name)
        return convert(value, cls) if cls is not None else value

    def _struct(self, wire: Wire, reader: Reader, depth: int) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for number in _field_numbers(reader):
            if number >= len(wire.fields):
                raise GobError(
                    f"field {number} of a {wire.name or 'struct'} that has {len(wire.fields)}"
                )
            name, type_id = wire.fields[number]
            found[name] = self._value(type_id, reader, depth + 1)
        return found


def _field_numbers(reader: Reader) -> Iterator[int]:
    """The numbers of a struct's fields as they come (delta-encoded; 0 ends it)."""
    number = -1
    while delta := reader.uint():
        number += delta
        yield number


# The definitions' own types (wireType and the types it holds), read by hand: each is a
# struct of known fields, so a small table-driven reader does.
_WIRE_TYPE = {0: "array", 1: "slice", 2: "struct", 3: "map"} | dict.fromkeys((4, 5, 6), "encoder")
_LAYOUTS = {
    "array": {0: "common", 1: "elem", 2: "len"},
    "slice": {0: "common", 1: "elem"},
    "struct": {0: "common", 1: "fields"},
    "map": {0: "common", 1: "key", 2: "elem"},
    "encoder": {0: "common"},
}


def _read_struct(reader: Reader, depth: int, layout: dict[int, str]) -> dict[str, Any]:
    """A struct of a type definition, its fields by ``layout``'s names (field 4-6 of
    a wireType: the three encoder kinds)."""
    if depth > 6:
        raise GobError("a type definition nested too deep")
    found: dict[str, Any] = {}
    for number in _field_numbers(reader):
        field = layout.get(number)
        if field is None:
            raise GobError(f"a type definition with an unknown field {number}")
        if depth == 0:
            found[field] = _read_struct(reader, depth + 1, _LAYOUTS[field])
        elif field == "common":
            found[field] = _read_common(reader)
        elif field == "fields":
            count = reader.count("a struct's fields", 2)
            found[field] = [_read_common(reader) for _ in range(count)]
        else:
            found[field] = reader.sint()
    return found


def _read_common(reader: Reader) -> dict[str, Any]:
    """A ``CommonType`` or ``fieldType``: a name and an id."""
    found: dict[str, Any] = {}
    for number in _field_numbers(reader):
        if number == 0:
            found["name"] = reader.raw("a type name").decode("utf-8", "replace")
        elif number == 1:
            found["id"] = reader.sint()
        else:
            raise GobError(f"a type name or id with an unknown field {number}")
    return found
