"""GeeORM: an ORM over sqlite for trio — dataclass models, immutable chainable queries,
hooks, transactions that roll back on cancellation, and migrations.

>>> from geetrio import orm
>>> # async with orm.open("sqlite3", "gee.db") as engine:
>>> #     s = engine.new_session()
>>> #     await s.model(User).create_table(); await s.insert(User("Tom", 18))
>>> #     adults = await s.where("age > ?", 17).order_by("age DESC").find(User)
"""

from .dialect import Dialect, SQLiteDialect, get_dialect, quote_identifier
from .engine import Engine, open
from .errors import (
    DatabaseError,
    IntegrityError,
    NotFound,
    ORMError,
    UnknownDialect,
    UnsupportedType,
)
from .schema import Field, Schema
from .session import Query, Raw, Session

__all__ = [
    "DatabaseError",
    "Dialect",
    "Engine",
    "Field",
    "IntegrityError",
    "NotFound",
    "ORMError",
    "Query",
    "Raw",
    "SQLiteDialect",
    "Schema",
    "Session",
    "UnknownDialect",
    "UnsupportedType",
    "get_dialect",
    "open",
    "quote_identifier",
]
