"""Inserting objects, plainly or on a conflict (``insert``, ``insert_or_ignore``,
``upsert``): one prepared statement per model, all its rows in one hop; on a conflict
target, ``INSERT ... ON CONFLICT (...) DO NOTHING`` or ``DO UPDATE SET col =
excluded.col`` — the same text on sqlite (3.24+) and PostgreSQL.

Many rows of a plain insert go ``ROWS_PER_STATEMENT`` at a time in one multi-row
``VALUES (...), (...)`` (at most ``MAX_PARAMETERS`` values a statement): measured on
sqlite (ad-hoc, 10,000 rows of 3 columns), half the time of one execution per row. An
upsert keeps one execution per row: PostgreSQL refuses a statement that updates the same
row twice, which two rows with one key in a batch would do."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

from ._errors import ORMError
from ._hooks import call_hook
from ._jobs import _rowcount
from ._types import DBConnection
from .schema import Schema

__all__ = ["MAX_PARAMETERS", "ROWS_PER_STATEMENT", "Conflict", "insert_objects", "utc_now"]

ROWS_PER_STATEMENT = 500
MAX_PARAMETERS = 999  # sqlite's before 3.32 (32,766 since); PostgreSQL's is 65,535


def utc_now() -> datetime.datetime:
    """What gorm's timestamp columns get: the current time in UTC, without a zone (both
    dialects' ``timestamp`` columns are zone-less)."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Conflict:
    """What to do when a row's ``target`` columns match a row already there: update
    ``update`` (None: every other column; empty: nothing, the row is left out)."""

    target: tuple[str, ...]
    update: tuple[str, ...] | None

    @classmethod
    def of(cls, target: str | Sequence[str], update: Sequence[str] | None) -> Conflict:
        columns = (target,) if isinstance(target, str) else tuple(target)
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise ValueError(f"conflict= needs column names, not {target!r}")
        if isinstance(update, str):
            update = (update,)
        return cls(columns, None if update is None else tuple(update))

    def clause(self, schema: Schema) -> str:
        """`` ON CONFLICT (...) DO ...`` for ``schema``; ``ORMError`` for a target that
        is no primary key or unique column, ``ValueError`` for unknown columns."""
        fields = [_field(schema, name) for name in self.target]
        if not _is_unique(schema, self.target):  # after the names: a typo reads as one
            raise ORMError(
                f"{schema.table} has no primary key or unique constraint on "
                f"({', '.join(self.target)}): a conflict there cannot happen"
            )
        target = ", ".join(f.quoted for f in fields)
        updated = self.update
        if updated is None:
            updated = tuple(n for n in schema.names if n not in self.target)
        if not updated:
            return f" ON CONFLICT ({target}) DO NOTHING"
        sets = ", ".join(
            f"{q} = excluded.{q}" for q in (_field(schema, name).quoted for name in updated)
        )
        return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"


def _field(schema: Schema, name: str) -> Any:
    found = schema.field(name)
    if found is None:
        raise ValueError(f"{schema.table} has no column {name!r}")
    return found


def _is_unique(schema: Schema, columns: tuple[str, ...]) -> bool:
    """Whether ``columns`` are the primary key, a column tagged UNIQUE, or a declared
    ``orm.unique(...)`` (in any order)."""
    if len(columns) == 1:
        tag = _field(schema, columns[0]).tag.upper()
        if "PRIMARY KEY" in tag or "UNIQUE" in tag:
            return True
    wanted = set(columns)
    return any(i.unique and set(i.columns) == wanted for i in schema.indexes)


async def insert_objects(
    session: Any, objects: Sequence[Any], conflict: Conflict | None = None
) -> int:
    """Insert ``objects`` (``Session.insert`` and friends). Cancelled: no row of a
    model is half-inserted; models already inserted stay unless a cancelled
    transaction rolls them back."""
    models = set(map(type, objects))  # one model (the common case): its objects as given
    if len(models) == 1:
        by_model: dict[type, Sequence[Any]] = {models.pop(): objects}
    else:
        by_model = {}
        for obj in objects:
            by_model.setdefault(type(obj), []).append(obj)  # type: ignore[attr-defined]
    engine = session.engine
    suffixes = {}
    for model in by_model:  # every conflict clause checked before the first statement
        suffixes[model] = "" if conflict is None else conflict.clause(engine.mapper(model).schema)
    total = 0
    for model, objs in by_model.items():
        mapper = engine.mapper(model)
        if mapper.stamped_on_insert:
            now = utc_now()
            for obj in objs:
                for name in mapper.stamped_on_insert:
                    if getattr(obj, name) is None:
                        setattr(obj, name, now)
        if mapper.hooks["before_insert"]:
            for obj in objs:
                await call_hook(obj, "before_insert", session)
        sql = mapper.insert_sql + suffixes[model]
        values_of = mapper.values_of
        if len(objs) == 1:
            params = values_of(objs[0])
            total += await engine.execute(_rowcount(sql, params), sql, params)
            continue
        rows = list(map(values_of, objs))
        per = min(ROWS_PER_STATEMENT, MAX_PARAMETERS // len(mapper.schema.fields))
        if conflict is None and len(rows) >= per > 1:
            key = ("insert_multi", per)
            multi = mapper.sql_cache.get(key) or mapper.remember(key, _multi_row(sql, per))
            job = partial(_insert_batches, sql=sql, multi=multi, per=per, rows=rows)
        else:
            job = partial(_insert_many, sql=sql, rows=rows)
        total += await engine.execute(job, sql, rows)
        if mapper.hooks["after_insert"]:
            for obj in objs:
                await call_hook(obj, "after_insert", session)
    return total


def _multi_row(sql: str, per: int) -> str:
    """One row's ``INSERT ... VALUES (?, ...)`` made to insert ``per`` rows."""
    values = sql[sql.rindex(" VALUES ") + len(" VALUES ") :]
    return sql + f", {values}" * (per - 1)


def _insert_batches(
    conn: DBConnection, sql: str, multi: str, per: int, rows: list[tuple[Any, ...]]
) -> int:
    """In the worker thread: ``rows`` ``per`` at a time through ``multi``, the rest
    through ``sql``, all in one transaction."""
    whole = len(rows) - len(rows) % per
    batches = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]

    def run(conn: DBConnection) -> int:
        count = conn.executemany(multi, batches).rowcount
        if whole < len(rows):
            count += conn.executemany(sql, rows[whole:]).rowcount
        return int(count)

    return _in_transaction(conn, run)


def _insert_many(conn: DBConnection, sql: str, rows: list[tuple[Any, ...]]) -> int:
    return _in_transaction(conn, lambda conn: int(conn.executemany(sql, rows).rowcount))


def _in_transaction(conn: DBConnection, run: Callable[[DBConnection], int]) -> int:
    """``run(conn)`` in the transaction open on ``conn``, else in one of its own."""
    if conn.in_transaction:
        return int(run(conn))
    conn.execute("BEGIN")  # autocommit mode: make the many rows one transaction
    try:
        count = int(run(conn))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return count
