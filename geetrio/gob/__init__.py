"""Go's ``encoding/gob`` in Python, sans-IO (issue 21): the codec of Go's ``net/rpc``
and of the series' GeeRPC.

>>> from dataclasses import dataclass
>>> from geetrio import gob
>>> @dataclass
... class Args:
...     num1: int      # Go's Num1
...     num2: int
>>> data = gob.Encoder().encode(Args(1, 2))
>>> decoder = gob.Decoder(); decoder.feed(data)
>>> decoder.next(Args)
Args(num1=1, num2=2)

Supported: bool, ints (``Annotated[int, gob.UINT]`` for unsigned), floats, complex,
strings, bytes, slices (``list[X]``), arrays (``Annotated[list[X], gob.Array(n)]``),
maps (``dict[K, V]``), structs (dataclasses, nested; Go's embedded structs arrive
flattened as Go sends them), pointers (``X | None``, flattened), ``time.Time``
(``datetime``), and interface values (``Any``) of basic types or of dataclasses
registered with ``gob.register("main.Point", Point)``. Not supported: channels and
functions (gob refuses them too), and GobEncoder/BinaryMarshaler types other than
``time.Time`` (they decode to their bytes).
"""

from ._decoder import DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_TYPES, NEED_MORE, Decoder
from ._encoder import MAX_DEPTH, Encoder, register
from ._errors import GobError
from ._types import UINT, Array, go_name, go_type

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_MAX_TYPES",
    "MAX_DEPTH",
    "NEED_MORE",
    "UINT",
    "Array",
    "Decoder",
    "Encoder",
    "GobError",
    "go_name",
    "go_type",
    "register",
]
