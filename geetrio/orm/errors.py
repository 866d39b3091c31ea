"""The ORM's errors: one base class, the driver's error kept as ``.orig``."""

from __future__ import annotations

import sqlite3
import sys

from ..errors import GeetrioError

__all__ = [
    "DatabaseError",
    "IntegrityError",
    "NotFound",
    "ORMError",
    "UnknownDialect",
    "UnsupportedType",
    "driver_errors",
    "wrap_driver_error",
]


class ORMError(GeetrioError):
    """Base class of every error ``geetrio.orm`` raises itself."""


class NotFound(ORMError):
    """``first()`` found no row."""


class UnsupportedType(ORMError, TypeError):
    """A model field whose type has no column type; the message names the field."""


class UnknownDialect(ORMError):
    """``Engine.open`` was given a driver name it does not know."""


class DatabaseError(ORMError):
    """The database refused a statement (bad SQL, a failed commit, ...). ``.orig`` is
    the driver's own exception."""

    def __init__(self, orig: Exception) -> None:
        super().__init__(str(orig))
        self.orig = orig


class IntegrityError(DatabaseError):
    """A constraint failed (primary key, unique, not null, ...)."""


def wrap_driver_error(exc: BaseException) -> DatabaseError | None:
    """A driver's error (sqlite3's or psycopg's) as ours, keeping it as ``.orig``;
    ``None`` for anything else."""
    if isinstance(exc, sqlite3.Error):
        return (
            IntegrityError(exc) if isinstance(exc, sqlite3.IntegrityError) else DatabaseError(exc)
        )
    psycopg = sys.modules.get("psycopg")  # imported only by the PostgreSQL backend
    if psycopg is not None and isinstance(exc, psycopg.Error):
        if isinstance(exc, psycopg.IntegrityError):
            return IntegrityError(exc)
        return DatabaseError(exc)
    return None


class _DriverErrors:
    """``with driver_errors:`` — a driver's error leaves the block as ours (its
    ``.orig`` the driver's); anything else passes unchanged. A plain class, not a
    generator context manager: it sits on every statement's path."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            wrapped = wrap_driver_error(exc)
            if wrapped is not None:
                raise wrapped from exc


driver_errors = _DriverErrors()
