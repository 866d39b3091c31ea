"""Dialects: everything that differs between databases, owned by one object per database.

A dialect says how to quote, which column type a Python type gets, how to ask whether a
table exists and which columns it has, how a transaction begins and ends, how a table is
migrated, which driver errors mean what, and how to open its backend.
``register_dialect(d)`` makes it known to ``Engine.open(d.name, ...)``; sqlite
(``_sqlite.py``) and PostgreSQL (``_postgres.py``) are registered by ``geetrio.orm``.

``StandardDialect`` is standard SQL (the parts sqlite and PostgreSQL share); a dialect
overrides what its database does differently. Sessions, transactions and migrations ask
the engine's dialect and never test its name.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from . import clause
from ._backend import Backend
from ._errors import DatabaseError, DriverErrors, UnknownDialect
from ._quoting import quote_identifier, quote_literal
from ._types import Job, Statement
from .schema import Field, Schema

__all__ = [
    "Dialect",
    "StandardDialect",
    "Statements",
    "get_dialect",
    "quote_identifier",
    "quote_literal",
    "register_dialect",
]

T = TypeVar("T")

Finish = Callable[[Any, str], None]
"""A job ending a transaction: ``finish(conn, "COMMIT" | "ROLLBACK")``."""


class Statements(Protocol):
    """What a migration runs its SQL through (one open transaction)."""

    async def exec(self, sql: str) -> int: ...

    async def rows(self, sql: str) -> list[Any]: ...


class Dialect(Protocol):
    """What the ORM asks of a database. ``name`` is the driver name ``Engine.open`` takes."""

    name: str
    errors: DriverErrors  # ``with dialect.errors:`` -- a driver error leaves as ours
    no_limit: str  # the LIMIT that means none, for an OFFSET without one ("" if optional)

    def quote_identifier(self, name: str) -> str: ...

    def quote_literal(self, text: str) -> str: ...

    def column_type(self, python_type: type) -> str | None:
        """The column type for a Python type, or None when unsupported."""
        ...

    def table_exists_sql(self, table: str) -> Statement: ...

    def columns_sql(self, table: str) -> str:
        """SQL whose rows describe ``table``'s columns, the name at index 1."""
        ...

    def indexes_sql(self, table: str) -> Statement:
        """SQL whose rows' first value is the name of an index of ``table``."""
        ...

    def transaction_jobs(self, *, foreign_keys_off: bool) -> tuple[Job[None], Finish]:
        """The worker-thread jobs that begin a top-level transaction and end it;
        ``foreign_keys_off`` for a migration that rebuilds a table."""
        ...

    async def retry_busy(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``await attempt()``, retried while another process holds a lock the database
        reports as an error rather than waiting on. Cancelled: between attempts, at
        once; during one, as the attempt is."""
        ...

    async def alter_table(self, db: Statements, schema: Schema, existing: Sequence[str]) -> None:
        """Inside a transaction: make ``schema.table`` (with columns ``existing``) match
        ``schema``, keeping its rows. Cancelled: the transaction rolls it all back."""
        ...

    def wrap_error(self, exc: BaseException) -> DatabaseError | None:
        """The driver's error as ours (``.orig`` keeps it); ``None`` for anything else."""
        ...

    async def open(self, path: str | os.PathLike[str], *, pool_size: int | None) -> Backend:
        """The backend for ``Engine.open(name, path, pool_size=...)``. Cancelled:
        nothing stays open."""
        ...


class StandardDialect:
    """Standard SQL. Subclasses set ``name`` and ``types`` and override what differs."""

    name = ""
    types: dict[type, str] = {}
    no_limit = ""  # standard SQL (and PostgreSQL): OFFSET stands alone

    def __init__(self) -> None:
        self.errors = DriverErrors(self.wrap_error)

    quote_identifier = staticmethod(quote_identifier)
    quote_literal = staticmethod(quote_literal)

    def column_type(self, python_type: type) -> str | None:
        return self.types.get(python_type)

    def table_exists_sql(self, table: str) -> Statement:
        return (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )

    def columns_sql(self, table: str) -> str:
        return (
            "SELECT ordinal_position, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            f"AND table_name = {self.quote_literal(table)} ORDER BY ordinal_position"
        )

    def indexes_sql(self, table: str) -> Statement:
        return (  # PostgreSQL's catalogue view: the standard has no index catalogue
            "SELECT indexname FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ?",
            (table,),
        )

    def transaction_jobs(self, *, foreign_keys_off: bool) -> tuple[Job[None], Finish]:
        return _begin, finish_transaction

    async def retry_busy(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``await attempt()`` (no retries). Cancelled: as the attempt is."""
        return await attempt()

    async def alter_table(self, db: Statements, schema: Schema, existing: Sequence[str]) -> None:
        """In place: ``DROP COLUMN`` the removed, ``ADD COLUMN`` the new (transactional
        DDL, as PostgreSQL has). Cancelled: the transaction rolls it all back."""
        for name in removed_columns(schema, existing):
            await db.exec(
                f"ALTER TABLE {schema.quoted_table} DROP COLUMN {self.quote_identifier(name)}"
            )
        await add_columns(db, schema, added_fields(schema, existing))

    def wrap_error(self, exc: BaseException) -> DatabaseError | None:
        return None

    async def open(self, path: str | os.PathLike[str], *, pool_size: int | None) -> Backend:
        """No backend: a dialect that has one overrides this (never cancelled: it
        raises at once)."""
        raise NotImplementedError(f"the {self.name} dialect has no backend")


def _begin(conn: Any) -> None:
    conn.execute("BEGIN")


def finish_transaction(conn: Any, statement: str) -> None:
    """COMMIT, or ROLLBACK when a transaction is still open (a failed COMMIT may have
    ended it already)."""
    if statement == "COMMIT" or conn.in_transaction:
        conn.execute(statement)


def added_fields(schema: Schema, existing: Sequence[str]) -> list[Field]:
    return [f for f in schema.fields if f.name not in existing]


def removed_columns(schema: Schema, existing: Sequence[str]) -> list[str]:
    return [name for name in existing if name not in schema.names]


async def add_columns(db: Statements, schema: Schema, fields: Sequence[Field]) -> None:
    for field in fields:
        definition = clause.column_definition(schema, field)
        await db.exec(f"ALTER TABLE {schema.quoted_table} ADD COLUMN {definition}")


_DIALECTS: dict[str, Dialect] = {}


def register_dialect(dialect: Dialect) -> None:
    """Make ``dialect`` known to ``Engine.open(dialect.name, ...)`` (replacing one of
    the same name)."""
    if not isinstance(dialect.name, str) or not dialect.name:
        raise ValueError("a dialect needs a name")
    _DIALECTS[dialect.name] = dialect


def get_dialect(name: str) -> Dialect:
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(sorted(_DIALECTS))
        raise UnknownDialect(f"unknown dialect {name!r}; known: {known}") from None
