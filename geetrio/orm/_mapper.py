"""What a model needs on every statement, computed once per engine: its schema, its
INSERT, how to turn objects into rows and back, which hooks it has, and the SQL text
per query shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .schema import Schema, to_db_value

__all__ = ["Mapper"]

SQL_CACHE_SIZE = 256


@dataclass(frozen=True)
class Mapper:
    """What a model needs on every statement, computed once."""

    schema: Schema
    insert_sql: str
    values_of: Callable[[Any], tuple[Any, ...]]
    from_row: Callable[[tuple[Any, ...]], Any]
    from_rows: Callable[[Iterable[tuple[Any, ...]]], list[Any]]
    hooks: dict[str, bool]
    # gorm's timestamps: the fields set on insert / update, and the soft-delete scope
    stamped_on_insert: tuple[str, ...] = ()
    stamped_on_update: str | None = None
    soft_delete: tuple[str, tuple[Any, ...]] | None = None  # ("deleted_at" IS NULL, ())
    # SQL text per query shape (condition texts, order, limit, columns set): values are
    # parameters, so the text repeats; bounded in case callers build condition texts.
    sql_cache: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def remember(self, key: tuple[Any, ...], sql: str) -> str:
        if len(self.sql_cache) >= SQL_CACHE_SIZE:
            self.sql_cache.clear()
        self.sql_cache[key] = sql
        return sql

    to_db = staticmethod(to_db_value)
