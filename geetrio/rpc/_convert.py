"""RPC bodies to and from annotated types: ``_core.convert`` with GeeRPC's error class
(a ``ConversionError`` here is an ``RPCError`` too)."""

from __future__ import annotations

from typing import Any

from .._core import convert
from ._errors import RPCError

__all__ = ["ConversionError", "from_plain", "to_plain"]


class ConversionError(RPCError, convert.ConversionError):
    """A value that does not fit its annotation; the message names the field."""


def to_plain(obj: Any) -> Any:
    """A JSON-ready value (``_core.convert.to_plain``)."""
    try:
        return convert.to_plain(obj)
    except convert.ConversionError as exc:
        raise ConversionError(str(exc), exc.problems) from None


def from_plain(value: Any, annotation: Any, path: str = "argument") -> Any:
    """``value`` (decoded JSON) as an ``annotation``; Go's case-insensitive key match."""
    try:
        return convert.bounded(convert.from_plain, value, annotation, path)
    except convert.ConversionError as exc:
        raise ConversionError(str(exc), exc.problems) from None
