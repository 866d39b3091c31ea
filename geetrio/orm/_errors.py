"""The ORM's errors: one base class, the driver's error kept as ``.orig``."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GeetrioError

__all__ = [
    "DatabaseError",
    "DriverErrors",
    "IntegrityError",
    "NotFound",
    "ORMError",
    "UnknownDialect",
    "UnsupportedType",
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


class DriverErrors:
    """``with dialect.errors:`` — a driver's error leaves the block as ours, mapped by
    the dialect's ``wrap_error`` (its ``.orig`` the driver's); anything else passes
    unchanged. A plain class, not a generator context manager: it sits on every
    statement's path."""

    __slots__ = ("_wrap",)

    def __init__(self, wrap: Callable[[BaseException], DatabaseError | None]) -> None:
        self._wrap = wrap

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            wrapped = self._wrap(exc)
            if wrapped is not None:
                raise wrapped from exc
