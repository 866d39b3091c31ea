"""Dialects: what differs between databases (types, identifier quoting, introspection).

Leaf module: sqlite (``sqlite3``) and PostgreSQL (``postgresql``).
"""

from __future__ import annotations

import datetime
from typing import Protocol

from .errors import UnknownDialect

__all__ = [
    "Dialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "get_dialect",
    "quote_identifier",
    "quote_literal",
]


def quote_identifier(name: str) -> str:
    """``"name"`` with inner quotes doubled; refuses what no database accepts."""
    if not isinstance(name, str) or not name:
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError(f"an identifier cannot contain NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``'text'`` with inner quotes doubled (a standard SQL string literal)."""
    if "\x00" in text:
        raise ValueError(f"a string literal cannot contain NUL: {text!r}")
    return "'" + text.replace("'", "''") + "'"


class Dialect(Protocol):
    name: str
    # migrate(): whether ALTER TABLE can drop a column and add one with constraints
    # (else the table is rebuilt, sqlite's documented procedure)
    alters_in_place: bool

    def column_type(self, python_type: type) -> str | None:
        """The column type for a Python type, or None when unsupported."""
        ...

    def table_exists_sql(self, table: str) -> tuple[str, tuple[object, ...]]: ...

    def columns_sql(self, table: str) -> str:
        """SQL whose rows describe ``table``'s columns, the name at index 1."""
        ...


class SQLiteDialect:
    name = "sqlite3"
    alters_in_place = False
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


class PostgreSQLDialect:
    name = "postgresql"
    alters_in_place = True  # transactional DDL, native DROP COLUMN
    _types: dict[type, str] = {
        bool: "boolean",
        int: "bigint",  # a Python int: 64 bits at least, as sqlite's integer
        float: "double precision",
        str: "text",
        bytes: "bytea",
        datetime.datetime: "timestamp",
    }

    def column_type(self, python_type: type) -> str | None:
        return self._types.get(python_type)

    def table_exists_sql(self, table: str) -> tuple[str, tuple[object, ...]]:
        return (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )

    def columns_sql(self, table: str) -> str:
        return (
            "SELECT ordinal_position, column_name FROM information_schema.columns "
            f"WHERE table_schema = current_schema() AND table_name = {quote_literal(table)} "
            "ORDER BY ordinal_position"
        )


_DIALECTS: dict[str, Dialect] = {
    "sqlite3": SQLiteDialect(),
    "postgresql": PostgreSQLDialect(),
}


def get_dialect(name: str) -> Dialect:
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(sorted(_DIALECTS))
        raise UnknownDialect(f"unknown dialect {name!r}; known: {known}") from None
