"""``Engine``: an open database, its models and statements. Transactions live in
``_transaction.py``, migrations in ``_migrate.py``."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import trio

from .. import tracing
from . import clause
from ._backend import Backend
from ._dialect import Dialect, get_dialect
from ._errors import ORMError
from ._hooks import INSTANCE_HOOKS, TABLE_HOOKS, has_hook
from ._mapper import Mapper
from ._metrics import statement as count_statement
from ._migrate import migrate
from ._session import Session
from ._stats import record
from ._transaction import current_level, run_transaction
from ._types import Job
from .schema import parse

__all__ = ["Engine", "open"]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")
CLOSE_GRACE = 5.0  # seconds close() waits for an open transaction
SLOW_THRESHOLD = 0.2  # gorm's default: a statement of 200 ms or more is logged as slow
MAX_TRACED_SQL = 2000  # characters of a statement a span carries


class Engine:
    """An open database. ``engine = await Engine.open("sqlite3", "gee.db")`` or
    ``async with orm.open("sqlite3", "gee.db") as engine:``.

    One engine serves any number of trio tasks: statements are serialised on one
    connection, and a transaction holds it for its whole duration.

    Cancellation, for every blocking call of the ORM (the statements of ``Session``,
    ``Query`` and ``Raw``: ``insert/find/first/count/update/delete``, table calls,
    ``exec/query_row/query_rows``): a call cancelled while it waits for the connection
    did not happen; a statement cancelled while it runs is interrupted and undone (the
    statement alone, or with its transaction when ``transaction`` is cancelled) and
    the caller gets ``Cancelled``; a statement that had already finished when the
    cancellation came has happened, and ``Cancelled`` comes at the caller's next
    checkpoint. In every case the engine stays usable.
    """

    def __init__(self, db: Backend, dialect: Dialect) -> None:
        self._db = db
        self.dialect = dialect
        self._mappers: dict[type, Mapper] = {}
        self.closed = False
        self._system = "sqlite" if dialect.name == "sqlite3" else dialect.name  # for traces
        self.slow_threshold: float | None = SLOW_THRESHOLD
        """Statements running this many seconds or more are logged at WARNING on
        ``geetrio.orm`` (None: never); every statement is logged at DEBUG with its
        duration."""

    @property
    def path(self) -> str:
        return self._db.path

    @classmethod
    async def open(
        cls, driver: str, path: str | os.PathLike[str], *, pool_size: int | None = None
    ) -> Engine:
        """Open a database: ``("sqlite3", "gee.db")`` opens (creating it if missing) a
        sqlite file; ``("postgresql", "postgresql://user@host:5432/db")`` a pool of up
        to ``pool_size`` (default 5) PostgreSQL connections, connecting once now.
        Cancelled: nothing stays open."""
        dialect = get_dialect(driver)
        db = await dialect.open(path, pool_size=pool_size)
        log.info("opened %s database %s", driver, db.path)
        return cls(db, dialect)

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Close the database. New statements and transactions are refused at once; a
        transaction still open may finish its work: ``close`` waits up to ``grace``
        seconds for it, then raises ``ORMError`` and leaves the connection to be closed
        when that transaction ends. Cancelled: it still finishes (within ``grace``,
        shielded). Closing twice is a no-op."""
        self.closed = True
        if self._db.closed:
            return
        with trio.CancelScope(shield=True), trio.move_on_after(grace) as waited:
            await self._db.close()
        if waited.cancelled_caught:
            raise ORMError(
                f"close(): a transaction is still open after {grace} s; "
                "the connection closes when it ends"
            )

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await _close_on_exit(self, raising=exc_info[1] is not None)

    def new_session(self) -> Session:
        return Session(self)

    def mapper(self, model: type) -> Mapper:
        mapper = self._mappers.get(model)
        if mapper is None:
            schema = parse(model, self.dialect)
            hooks = {name: has_hook(model, name) for name in (*INSTANCE_HOOKS, *TABLE_HOOKS)}
            on_insert = tuple(
                f.name for role in ("created_at", "updated_at") if (f := schema.with_role(role))
            )
            updated = schema.with_role("updated_at")
            deleted = schema.with_role("deleted_at")
            mapper = Mapper(
                schema,
                clause.insert(schema),
                schema.values_of(),
                schema.from_row(),
                schema.from_rows(),
                hooks,
                on_insert,
                updated.name if updated else None,
                (f"{deleted.quoted} IS NULL", ()) if deleted else None,
            )
            self._mappers[model] = mapper
        return mapper

    # ------------------------------------------------------------ statements

    async def execute(self, job: Job[T], sql: str, params: Any) -> T:
        """Run ``job(connection)`` in a worker thread: in the transaction this task (or
        the task that started it) is in, while that one is open, else on its own. It
        waits while a nested transaction of that transaction is open. Cancelled: as
        every statement (the class docstring): not run, or interrupted and undone.
        Traced (``geetrio.tracing``) as a client span with the statement's text."""
        tracer = tracing.tracer()
        if tracer is None:
            return await self._execute(job, sql, params)
        attributes = {"db.system.name": self._system, "db.query.text": sql[:MAX_TRACED_SQL]}
        operation = sql.split(None, 1)[0].upper() if sql.strip() else "SQL"
        with tracing.span(tracer, operation, tracing.CLIENT, attributes):
            return await self._execute(job, sql, params)

    async def _execute(self, job: Job[T], sql: str, params: Any) -> T:
        with self.dialect.errors:
            level = current_level(self)
            while level is not None and level.child is not None:
                await level.wait_for_child()
                level = current_level(self)
            if level is None and self.closed:
                raise ORMError("the engine is closed")
            started = time.perf_counter()
            outcome = "error"
            try:
                if level is not None:
                    result = await level.worker.run(job)
                else:
                    result = await self._db.run_statement(job)
                outcome = "ok"
                return result
            except trio.Cancelled:
                outcome = "cancelled"
                raise
            finally:  # a statement that ran (or was interrupted), counted and logged
                seconds = time.perf_counter() - started
                record(sql, params, seconds, self.slow_threshold)
                count_statement(self.dialect.name, sql, outcome, seconds)

    async def transaction(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``await fn(session)`` in a transaction: commit when it returns, roll back
        when it raises *or is cancelled*, then re-raise its exception unchanged.

        Nested calls (from ``fn`` or a task it started) use a savepoint, one at a time:
        a nested transaction, or a statement of the outer one, waits while a sibling's
        nested transaction is open. Other tasks' statements wait until it ends. It takes
        sqlite's write lock when it begins, waiting (cancellably, up to 5 s) while
        another process holds it. A task started by ``fn`` that outlives it runs its
        later statements outside it.

        Cancelled before it began: nothing happened. Cancelled after: everything ``fn``
        did is rolled back and ``Cancelled`` propagates. The engine stays usable.
        """
        return await run_transaction(self, self._db, fn)

    async def run_transaction(
        self, fn: Callable[[Session], Awaitable[T]], *, foreign_keys_off: bool
    ) -> T:
        """``transaction`` with the options the ORM itself needs (``migrate``).
        Cancelled: as ``transaction``, rolled back."""
        return await run_transaction(self, self._db, fn, foreign_keys_off=foreign_keys_off)

    async def ping(self) -> None:
        """Return when the database answers (Go's ``DB.PingContext``, for readiness
        checks): a transaction of ``SELECT 1``. On sqlite a transaction takes the write
        lock, so a database another process keeps locked does not answer: ``ping``
        waits as any transaction does (up to 5 s), then raises ``DatabaseError``;
        bound it with a cancel scope. A closed engine raises ``ORMError``. Cancelled:
        nothing happened."""

        async def probe(session: Session) -> None:
            await session.raw("SELECT 1").query_row()

        await self.transaction(probe)

    # ------------------------------------------------------------ migrations

    async def migrate(self, model: type) -> None:
        """Make the table match ``model``: add new columns (existing rows get the
        field's default when it is a literal), drop removed ones keeping the rows
        (a rebuild, with foreign keys off meanwhile and checked after); all in one
        transaction. Creates a missing table. A rebuild refuses to run inside an open
        transaction (``ORMError``). Cancelled: rolled back, nothing changed."""
        await migrate(self, model)


async def _close_on_exit(engine: Engine, *, raising: bool) -> None:
    """Close at the end of an ``async with``: a close that gives up raises, unless
    another exception is already on its way (then it is only logged)."""
    try:
        await engine.close()
    except ORMError:
        if not raising:
            raise
        log.exception("closing %s", engine.path)


@asynccontextmanager
async def open(
    driver: str, path: str | os.PathLike[str], *, pool_size: int | None = None
) -> AsyncIterator[Engine]:
    """``async with orm.open("sqlite3", path) as engine:`` — closes it on exit, also
    when the block is cancelled (the close is shielded, bounded by its grace)."""
    engine = await Engine.open(driver, path, pool_size=pool_size)
    try:
        yield engine
    except BaseException:
        await _close_on_exit(engine, raising=True)
        raise
    await _close_on_exit(engine, raising=False)
