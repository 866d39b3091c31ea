"""sqlite: its dialect (``SQLiteDialect``) and its backend (``Database``), a connection
used from one thread at a time. (PostgreSQL: ``_postgres.py``, the same contracts over a
pool.)

Discipline (docs/architecture.md, trio fact 3): one ``sqlite3.Connection`` per engine, opened with
``check_same_thread=False`` and used under a trio ``Lock`` — held for one statement, or
for a whole transaction so that no other task's statement lands inside it — and a
``CapacityLimiter(1)``, so at most one worker thread holds the connection.

Two ways into a worker thread:

- a statement outside a transaction takes one hop (``run_statement``, ``backend.hop``:
  a thread of trio's cache, the task waiting on the connection's doorbell);
- a transaction starts a worker thread for its lifetime (``backend.TransactionWorker``,
  through ``trio.to_thread.run_sync``), inside a nursery of the task that runs the
  transaction, and hands it jobs.

Cancellation: a progress handler runs every ``PROGRESS_STEPS`` sqlite VM steps and
aborts the statement when its caller was cancelled (a flag the caller's abort sets).
sqlite then raises "interrupted", the caller turns that into its ``Cancelled``, and the
connection stays usable. A statement waiting on another process's lock is not interruptible, so the
busy timeout is short and retried from trio with a cancellable sleep.
"""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import trio

from .._core.bell import Bell
from . import clause
from ._backend import hop
from ._dialect import (
    StandardDialect,
    Statements,
    add_columns,
    added_fields,
    finish_transaction,
    removed_columns,
)
from ._errors import DatabaseError, IntegrityError, ORMError
from ._types import Job
from .schema import Schema

__all__ = ["Database", "SQLiteDialect", "retry_locked"]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")

PROGRESS_STEPS = 1000
BUSY_TIMEOUT = 0.05  # seconds sqlite itself waits on a lock held by another process
LOCKED_RETRY_FOR = 5.0  # then trio retries, sleeping, for up to this long


def _never() -> bool:
    return False


class Database:
    """An open sqlite database. Create with ``await Database.open(path)``."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.lock = trio.Lock()
        self.limiter = trio.CapacityLimiter(1)
        self.closed = False
        self._bell = Bell()  # a statement's answer (``hop``), one at a time: the lock
        self._should_abort: Callable[[], bool] = _never
        conn.set_progress_handler(self._progress, PROGRESS_STEPS)

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> Database:
        path = os.fspath(path)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()
                raise
            return conn

        # Switching a file to WAL takes its lock for a moment: several processes opening
        # one new file together (cache nodes sharing a database) may meet it.
        conn = await retry_locked(lambda: trio.to_thread.run_sync(connect))
        return cls(conn, path)

    def _progress(self) -> int:
        return 1 if self._should_abort() else 0

    def interrupt(self) -> None:
        """Nothing to do: the progress handler polls the job's abort flag."""

    def interrupted(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted"

    @asynccontextmanager
    async def transaction_connection(self) -> AsyncIterator[Database]:
        """The connection for one transaction: held (the lock) until it ends."""
        async with self.lock:
            yield self

    async def discard(self, conn: Database) -> None:
        """``close()`` gave up waiting for this transaction: close when it ends."""
        await self.close_locked()

    def run_job(self, job: Job[T], should_abort: Callable[[], bool]) -> T:
        """In a worker thread: run ``job`` on the connection."""
        self._should_abort = should_abort
        try:
            return job(self.conn)
        finally:
            self._should_abort = _never

    async def run_statement(self, job: Job[T]) -> T:
        """One statement outside a transaction: the lock, one hop, retries on "locked"."""
        async with self.lock:
            if self.closed:
                raise ORMError("the engine is closed")
            result: T = await retry_locked(lambda: self._hop(job))
            return result

    async def _hop(self, job: Job[T]) -> T:
        return await hop(self, job, self._bell)

    async def close(self) -> None:
        """Wait for the lock (cancellably), then close the connection."""
        async with self.lock:
            await self.close_locked()

    async def close_locked(self) -> None:
        """Close the connection; the caller holds the lock. Finishes even if cancelled."""
        if not self.closed:
            self.closed = True
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.conn.close, limiter=self.limiter)
            self._bell.close()


async def retry_locked(attempt: Callable[[], Awaitable[T]]) -> T:
    """Retry "database is locked" (another process holds a write lock) with a
    cancellable backoff."""
    delay = 0.005
    deadline = trio.current_time() + LOCKED_RETRY_FOR
    while True:
        try:
            return await attempt()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or trio.current_time() + delay > deadline:
                raise
            log.debug("database is locked; retrying in %.3f s", delay)
            await trio.sleep(delay)
            delay = min(delay * 2, 0.2)


class SQLiteDialect(StandardDialect):
    """sqlite: its types and introspection, ``BEGIN IMMEDIATE``, retries while another
    process holds the write lock, migrations by rebuilding the table."""

    name = "sqlite3"
    no_limit = " LIMIT -1"  # sqlite takes OFFSET only after a LIMIT
    types = {
        bool: "bool",
        int: "integer",
        float: "real",
        str: "text",
        bytes: "blob",
        datetime.datetime: "datetime",
    }

    def table_exists_sql(self, table: str) -> tuple[str, tuple[object, ...]]:
        return "SELECT name FROM sqlite_master WHERE type='table' AND name = ?", (table,)

    def columns_sql(self, table: str) -> str:
        return f"PRAGMA table_info({self.quote_identifier(table)})"

    def indexes_sql(self, table: str) -> tuple[str, tuple[object, ...]]:
        return "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)

    def transaction_jobs(
        self, *, foreign_keys_off: bool
    ) -> tuple[Job[None], Callable[[Any, str], None]]:
        # BEGIN IMMEDIATE takes the write lock now, retried (cancellably) while another
        # process holds it; later statements of the transaction then never meet a lock
        # (a deferred BEGIN would fail at its first write, which cannot be retried).
        if foreign_keys_off:
            return _begin_without_foreign_keys, _finish_foreign_keys
        return _begin_immediate, finish_transaction

    async def retry_busy(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry "database is locked" for up to 5 s. Cancelled: the sleep between
        attempts ends at once; an attempt is interrupted as any statement is."""
        return await retry_locked(attempt)

    async def alter_table(self, db: Statements, schema: Schema, existing: Sequence[str]) -> None:
        """``ADD COLUMN`` when only columns without constraints are new (sqlite cannot
        add UNIQUE, PRIMARY KEY, ...); else a rebuild, the way sqlite documents it: new
        table, copy, drop, rename, ``PRAGMA foreign_key_check`` (foreign keys are off
        for the transaction: ``transaction_jobs(foreign_keys_off=True)``). Cancelled:
        the transaction rolls it all back."""
        added = added_fields(schema, existing)
        if removed_columns(schema, existing) or any(f.tag for f in added):
            await self._rebuild(db, schema, [n for n in schema.names if n in existing])
        else:
            await add_columns(db, schema, added)

    async def _rebuild(self, db: Statements, schema: Schema, kept: list[str]) -> None:
        if await db.rows("PRAGMA foreign_keys") != [(0,)]:
            # Inside an enclosing transaction the pragma cannot change, and DROP TABLE
            # with foreign keys on would run ON DELETE actions of tables referencing it.
            raise ORMError(
                f"migrating {schema.table!r} rebuilds the table, which needs foreign keys "
                "off: run migrate() outside a transaction"
            )
        quote = self.quote_identifier
        temporary = f"{schema.table}__geetrio_migrate"
        await db.exec(f"DROP TABLE IF EXISTS {quote(temporary)}")
        await db.exec(clause.create_table(schema, temporary))
        columns = ", ".join(quote(n) for n in kept)
        await db.exec(
            f"INSERT INTO {quote(temporary)} ({columns}) "
            f"SELECT {columns} FROM {schema.quoted_table}"
        )  # columns new in the table take their DEFAULT from its definition
        await db.exec(f"DROP TABLE {schema.quoted_table}")
        await db.exec(f"ALTER TABLE {quote(temporary)} RENAME TO {schema.quoted_table}")
        violations = await db.rows("PRAGMA foreign_key_check")
        if violations:
            shown = ", ".join(
                f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in violations[:5]
            )
            raise ORMError(
                f"migrating {schema.table!r}: foreign key check failed for {len(violations)} "
                f"row(s) ({shown}); nothing was changed"
            )

    def wrap_error(self, exc: BaseException) -> DatabaseError | None:
        if isinstance(exc, sqlite3.IntegrityError):
            return IntegrityError(exc)
        if isinstance(exc, sqlite3.Error):
            return DatabaseError(exc)
        return None

    async def open(self, path: str | os.PathLike[str], *, pool_size: int | None) -> Database:
        """Open (or create) the sqlite file. Cancelled while the lock on a new file is
        retried: at once, nothing left open."""
        if pool_size is not None:
            raise ValueError("pool_size: a sqlite engine has one connection")
        return await Database.open(path)


# Jobs that open and end a top-level transaction, run in its worker thread.
def _begin_immediate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _begin_without_foreign_keys(conn: sqlite3.Connection) -> None:
    """For a table rebuild (sqlite's documented procedure): foreign keys off for the
    transaction, so that dropping the old table fires no ON DELETE action elsewhere.
    The pragma is a no-op inside a transaction, hence before BEGIN."""
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except BaseException:
        conn.execute("PRAGMA foreign_keys=ON")
        raise


def _finish_foreign_keys(conn: sqlite3.Connection, statement: str) -> None:
    try:
        finish_transaction(conn, statement)
    finally:
        if not conn.in_transaction:
            conn.execute("PRAGMA foreign_keys=ON")
