"""GeeORM: an ORM over sqlite for trio — dataclass models, immutable chainable queries,
hooks, transactions that roll back on cancellation, and migrations.

>>> from geetrio import orm
>>> # async with orm.open("sqlite3", "gee.db") as engine:
>>> #     s = engine.new_session()
>>> #     await s.model(User).create_table(); await s.insert(User("Tom", 18))
>>> #     adults = await s.where("age > ?", 17).order_by("age DESC").find(User)
"""

from ._dialect import Dialect, StandardDialect, get_dialect, quote_identifier, register_dialect
from ._engine import Engine, open
from ._errors import (
    DatabaseError,
    IntegrityError,
    NotFound,
    ORMError,
    UnknownDialect,
    UnsupportedType,
)
from ._insert import utc_now
from ._postgres import PostgreSQLDialect
from ._raw import Raw
from ._reads import Page
from ._session import Query, Session
from ._sqlite import SQLiteDialect
from ._stats import QueryCount, count_queries
from .indexes import Index, index, unique
from .relations import belongs_to, created_at, deleted_at, foreign_key, has_many, updated_at
from .schema import Field, Schema

register_dialect(SQLiteDialect())
register_dialect(PostgreSQLDialect())

__all__ = [
    "DatabaseError",
    "Dialect",
    "Engine",
    "Field",
    "Index",
    "IntegrityError",
    "NotFound",
    "ORMError",
    "Page",
    "PostgreSQLDialect",
    "Query",
    "QueryCount",
    "Raw",
    "SQLiteDialect",
    "Schema",
    "Session",
    "StandardDialect",
    "UnknownDialect",
    "UnsupportedType",
    "belongs_to",
    "count_queries",
    "created_at",
    "deleted_at",
    "foreign_key",
    "get_dialect",
    "has_many",
    "index",
    "open",
    "quote_identifier",
    "register_dialect",
    "unique",
    "updated_at",
    "utc_now",
]
