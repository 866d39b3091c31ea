"""The ORM's errors: one base class, the driver's error kept as ``.orig``."""

from __future__ import annotations

import sqlite3

__all__ = [
    "DatabaseError",
    "IntegrityError",
    "NotFound",
    "ORMError",
    "UnknownDialect",
    "UnsupportedType",
    "wrap_driver_error",
]


class ORMError(Exception):
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


def wrap_driver_error(exc: sqlite3.Error) -> DatabaseError:
    """The driver's error as ours, keeping it as ``.orig``."""
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(exc)
    return DatabaseError(exc)
