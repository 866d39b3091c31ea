"""Type aliases shared across ``geetrio.orm``. A leaf: imports nothing of ours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["Condition", "Cursor", "DBConnection", "Job", "Statement"]

T = TypeVar("T")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class DBConnection(Protocol):
    """A driver connection as a job uses it: a ``sqlite3.Connection``, or the PostgreSQL
    backend's view of psycopg's."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, params: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, rows: Any, /) -> Cursor: ...


Job = Callable[[Any], T]
"""What runs in the worker thread: a function of the connection (a ``DBConnection``)."""

Condition = tuple[str, tuple[Any, ...]]
"""A ``where()`` fragment and its ``?`` values."""

Statement = tuple[str, tuple[Any, ...]]
"""SQL text and its parameters."""
