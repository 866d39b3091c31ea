"""Dialects: what differs between databases (types, identifier quoting, introspection).

Leaf module. Only sqlite exists today; a second dialect implements ``Dialect``.
"""

from __future__ import annotations

import datetime
from typing import Protocol

from .errors import UnknownDialect

__all__ = ["Dialect", "SQLiteDialect", "get_dialect", "quote_identifier"]


def quote_identifier(name: str) -> str:
    """``"name"`` with inner quotes doubled; refuses what no database accepts."""
    if not isinstance(name, str) or not name:
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError(f"an identifier cannot contain NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


class Dialect(Protocol):
    name: str

    def column_type(self, python_type: type) -> str | None:
        """The column type for a Python type, or None when unsupported."""
        ...

    def table_exists_sql(self, table: str) -> tuple[str, tuple[object, ...]]: ...

    def columns_sql(self, table: str) -> str:
        """SQL whose rows describe ``table``'s columns, the name at index 1."""
        ...


class SQLiteDialect:
    name = "sqlite3"
    _types: dict[type, str] = {
        bool: "bool",
        int: "integer",
        float: "real",
        str: "text",
        bytes: "blob",
        datetime.datetime: "datetime",
    }

    def column_type(self, python_type: type) -> str | None:
        return self._types.get(python_type)

    def table_exists_sql(self, table: str) -> tuple[str, tuple[object, ...]]:
        return "SELECT name FROM sqlite_master WHERE type='table' AND name = ?", (table,)

    def columns_sql(self, table: str) -> str:
        return f"PRAGMA table_info({quote_identifier(table)})"


_DIALECTS: dict[str, Dialect] = {"sqlite3": SQLiteDialect()}


def get_dialect(name: str) -> Dialect:
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(sorted(_DIALECTS))
        raise UnknownDialect(f"unknown dialect {name!r}; known: {known}") from None
