"""``Engine``: an open database, its models, statements, transactions, migrations."""

from __future__ import annotations

import contextvars
import datetime
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import trio

from . import clause
from .database import Database, Job, TransactionWorker
from .dialect import Dialect, get_dialect, quote_identifier
from .errors import DatabaseError, IntegrityError, ORMError
from .hooks import INSTANCE_HOOKS, TABLE_HOOKS, has_hook
from .schema import Schema, parse
from .session import Session

__all__ = ["Engine", "open"]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")
ROLLBACK_TIMEOUT = 5.0


SQL_CACHE_SIZE = 256


@dataclass(frozen=True)
class _Mapper:
    """What a model needs on every statement, computed once."""

    schema: Schema
    insert_sql: str
    values_of: Callable[[Any], tuple[Any, ...]]
    from_row: Callable[[tuple[Any, ...]], Any]
    hooks: dict[str, bool]
    # SQL text per query shape (condition texts, order, limit, columns set): values are
    # parameters, so the text repeats; bounded in case callers build condition texts.
    sql_cache: dict[tuple[Any, ...], str] = field(default_factory=dict)

    def remember(self, key: tuple[Any, ...], sql: str) -> str:
        if len(self.sql_cache) >= SQL_CACHE_SIZE:
            self.sql_cache.clear()
        self.sql_cache[key] = sql
        return sql

    @staticmethod
    def to_db(value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return value.isoformat(sep=" ")
        return value


@dataclass
class _Transaction:
    engine: Engine
    worker: TransactionWorker
    savepoints: int = 0


_current: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
    "geetrio_orm_transaction", default=None
)


class Engine:
    """An open database. ``engine = await Engine.open("sqlite3", "gee.db")`` or
    ``async with orm.open("sqlite3", "gee.db") as engine:``.

    One engine serves any number of trio tasks: statements are serialised on one
    connection, and a transaction holds it for its whole duration.
    """

    def __init__(self, db: Database, dialect: Dialect) -> None:
        self._db = db
        self.dialect = dialect
        self._mappers: dict[type, _Mapper] = {}
        self._closed = False

    @classmethod
    async def open(cls, driver: str, path: str | os.PathLike[str]) -> Engine:
        dialect = get_dialect(driver)
        db = await Database.open(path)
        log.info("opened %s database %s", driver, db.path)
        return cls(db, dialect)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._db.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        with trio.CancelScope(shield=True):
            await self.close()

    def new_session(self) -> Session:
        return Session(self)

    def mapper(self, model: type) -> _Mapper:
        mapper = self._mappers.get(model)
        if mapper is None:
            schema = parse(model, self.dialect)
            hooks = {name: has_hook(model, name) for name in (*INSTANCE_HOOKS, *TABLE_HOOKS)}
            mapper = _Mapper(
                schema, clause.insert(schema), schema.values_of(), schema.from_row(), hooks
            )
            self._mappers[model] = mapper
        return mapper

    # ------------------------------------------------------------ statements

    async def execute(self, job: Job[T], sql: str, params: Any) -> T:
        """Run ``job(connection)`` in a worker thread: in the current transaction if
        this task (or the task that started it) is in one, else on its own."""
        if self._closed:
            raise ORMError("the engine is closed")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %r", sql, params if not isinstance(params, list) else f"<{len(params)} rows>"
            )
        transaction = _current.get()
        try:
            if transaction is not None and transaction.engine is self:
                return await transaction.worker.run(job)
            return await self._db.run_hop(job)
        except sqlite3.Error as exc:
            raise _wrap(exc) from exc

    # ------------------------------------------------------------ transactions

    async def transaction(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``await fn(session)`` in a transaction: commit when it returns, roll back
        when it raises *or is cancelled*, then re-raise its exception unchanged.
        Nested calls use a savepoint. Other tasks' statements wait until it ends.
        """
        if self._closed:
            raise ORMError("the engine is closed")
        current = _current.get()
        if current is not None and current.engine is self:
            return await self._savepoint(current, fn)
        async with self._db.lock:
            outcome_box: list[Any] = []
            error: BaseException | None = None
            async with trio.open_nursery() as nursery:
                worker = TransactionWorker(self._db)
                nursery.start_soon(
                    partial(trio.to_thread.run_sync, worker.serve, limiter=self._db.limiter)
                )
                try:
                    outcome_box.append(await self._run_transaction(worker, fn))
                except BaseException as exc:  # re-raised below, outside the nursery
                    error = exc
                finally:
                    worker.stop()
            if error is not None:
                raise error
            return outcome_box[0]  # type: ignore[no-any-return]

    async def _run_transaction(
        self, worker: TransactionWorker, fn: Callable[[Session], Awaitable[T]]
    ) -> T:
        transaction = _Transaction(self, worker)
        token = _current.set(transaction)
        try:
            await _control(worker, lambda c: c.execute("BEGIN"))
            try:
                result = await fn(Session(self))
            except BaseException:  # includes Cancelled: roll back, then re-raise it
                await _undo(worker, _rollback_if_open)
                raise
            try:
                await _control(worker, lambda c: c.execute("COMMIT"))
            except BaseException:
                await _undo(worker, _rollback_if_open)
                raise
            return result
        finally:
            _current.reset(token)

    async def _savepoint(
        self, transaction: _Transaction, fn: Callable[[Session], Awaitable[T]]
    ) -> T:
        transaction.savepoints += 1
        name = quote_identifier(f"geetrio_sp{transaction.savepoints}")
        worker = transaction.worker
        await _control(worker, lambda c: c.execute(f"SAVEPOINT {name}"))
        try:
            result = await fn(Session(self))
        except BaseException:  # includes Cancelled: roll back to the savepoint, re-raise

            def rollback_to_savepoint(conn: sqlite3.Connection) -> None:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")

            await _undo(worker, rollback_to_savepoint)
            raise
        await _control(worker, lambda c: c.execute(f"RELEASE {name}"))
        return result

    # ------------------------------------------------------------ migrations

    async def migrate(self, model: type) -> None:
        """Make the table match ``model``: add new columns (existing rows get the
        field's default when it is a literal), drop removed ones keeping the rows
        (rebuild the table); all in one transaction. Creates a missing table."""
        schema = self.mapper(model).schema

        async def run(session: Session) -> None:
            if not await session.model(model).has_table():
                await session.model(model).create_table()
                return
            columns_sql = self.dialect.columns_sql(schema.table)
            rows = await session.raw(columns_sql).query_rows()
            existing = [row[1] for row in rows]
            wanted = list(schema.names)
            added = [f for f in schema.fields if f.name not in existing]
            removed = [name for name in existing if name not in wanted]
            if removed or any(column.tag for column in added):
                # sqlite's ADD COLUMN cannot add constraints (UNIQUE, PRIMARY KEY, ...)
                await self._rebuild(session, schema, [n for n in wanted if n in existing])
            else:
                for column in added:
                    definition = clause.column_definition(column)
                    await session.raw(
                        f"ALTER TABLE {schema.quoted_table} ADD COLUMN {definition}"
                    ).exec()
            log.info(
                "migrated %s: added %s, dropped %s", schema.table, [f.name for f in added], removed
            )

        await self.transaction(run)

    async def _rebuild(self, session: Session, schema: Schema, kept: list[str]) -> None:
        temporary = f"{schema.table}__geetrio_migrate"
        await session.raw(f"DROP TABLE IF EXISTS {quote_identifier(temporary)}").exec()
        await session.raw(clause.create_table(schema, temporary)).exec()
        columns = ", ".join(quote_identifier(n) for n in kept)
        await session.raw(
            f"INSERT INTO {quote_identifier(temporary)} ({columns}) "
            f"SELECT {columns} FROM {schema.quoted_table}"
        ).exec()  # columns new in the table take their DEFAULT from its definition
        await session.raw(f"DROP TABLE {schema.quoted_table}").exec()
        await session.raw(
            f"ALTER TABLE {quote_identifier(temporary)} RENAME TO {schema.quoted_table}"
        ).exec()


def _wrap(exc: sqlite3.Error) -> DatabaseError:
    return IntegrityError(exc) if isinstance(exc, sqlite3.IntegrityError) else DatabaseError(exc)


async def _control(worker: TransactionWorker, job: Job[Any]) -> None:
    """BEGIN, COMMIT, SAVEPOINT...: the transaction's own statements, errors wrapped."""
    try:
        await worker.run(job)
    except sqlite3.Error as exc:
        raise _wrap(exc) from exc


async def _undo(worker: TransactionWorker, job: Job[Any]) -> None:
    """A rollback that runs even while cancelled (shielded, bounded) and never replaces
    the exception being handled: its own failure is only logged."""
    with trio.move_on_after(ROLLBACK_TIMEOUT, shield=True):
        try:
            await worker.run(job)
        except Exception:
            log.exception("rollback failed")


def _rollback_if_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@asynccontextmanager
async def open(driver: str, path: str | os.PathLike[str]) -> AsyncIterator[Engine]:
    """``async with orm.open("sqlite3", path) as engine:`` — closes it on exit."""
    engine = await Engine.open(driver, path)
    try:
        yield engine
    finally:
        with trio.CancelScope(shield=True):
            await engine.close()
