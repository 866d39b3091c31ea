"""PostgreSQL: its dialect (``PostgreSQLDialect``) and its backend (``PgDatabase``),
psycopg 3's blocking API in worker threads, over a pool.

psycopg's asynchronous API is asyncio's alone (psycopg/psycopg#29, open since 2021; the
anyio port, #146, was closed unmerged), so the ORM uses the blocking connections the
way it uses sqlite's: each job runs in a worker thread (``trio.to_thread``), one
thread per connection at a time. What differs from sqlite:

- **A pool.** Up to ``pool_size`` connections, opened on demand and kept; a statement
  outside a transaction takes one for its hop, a transaction holds one from ``BEGIN``
  to its end. Statements of different tasks run in parallel on the server.
- **Cancellation is the server's.** A statement cannot be interrupted from its thread,
  so when its caller is cancelled the trio side asks the server to cancel it
  (``cancel_safe``, libpq's cancel request, bounded by ``CANCEL_TIMEOUT``); the thread
  then gets ``QueryCanceled`` and the caller its ``Cancelled``. The connection stays in
  the pool: inside a transaction the rollback follows, as for any failure.
- **SQL text**: ``?`` placeholders become ``%s`` (``_placeholders.py``); connections are
  in autocommit mode, so ``BEGIN``/``COMMIT`` are the ORM's, as with sqlite.

A failed statement inside a transaction leaves PostgreSQL's transaction aborted: every
later statement fails until it ends. Catch an error you mean to recover from inside a
nested ``transaction()`` (a savepoint), which rolls back to before it.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import trio

from ._backend import with_worker
from ._dialect import StandardDialect
from ._errors import DatabaseError, IntegrityError, ORMError
from ._metrics import pool as pool_metrics
from ._placeholders import to_pyformat
from ._types import Job

__all__ = ["DEFAULT_POOL_SIZE", "PgDatabase", "PostgreSQLDialect"]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")

DEFAULT_POOL_SIZE = 5
CANCEL_TIMEOUT = 2.0  # seconds a cancel request may take (it blocks the trio thread)
CONNECT_TIMEOUT = 10  # seconds, libpq's connect_timeout


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ORMError(
            "the postgresql dialect needs psycopg 3: pip install 'psycopg[binary]>=3.2'"
        ) from None
    return psycopg


def redact(url: str) -> str:
    """The URL without its password (for logs and ``Engine.path``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class _View:
    """What the ORM's jobs see of a psycopg connection: sqlite3's ``execute``,
    ``executemany`` and ``in_transaction``, with ``?`` placeholders."""

    __slots__ = ("_idle", "raw")

    def __init__(self, raw: Any, idle: Any) -> None:
        self.raw = raw
        self._idle = idle

    def execute(self, sql: str, params: Any = ()) -> Any:
        text, _ = to_pyformat(sql)
        return self.raw.execute(text, tuple(params))

    def executemany(self, sql: str, rows: Any) -> Any:
        text, _ = to_pyformat(sql)
        cursor = self.raw.cursor()
        cursor.executemany(text, rows)
        return cursor

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.info.transaction_status != self._idle)


class PgConnection:
    """One pooled connection, used from one worker thread at a time."""

    def __init__(self, raw: Any, psycopg: Any) -> None:
        self.raw = raw
        self.view = _View(raw, psycopg.pq.TransactionStatus.IDLE)
        self.limiter = trio.CapacityLimiter(1)
        self._canceled = psycopg.errors.QueryCanceled

    def run_job(self, job: Job[T], should_abort: Callable[[], bool]) -> T:
        return job(self.view)

    def interrupt(self) -> None:
        try:
            self.raw.cancel_safe(timeout=CANCEL_TIMEOUT)
        except Exception as exc:  # the server may be gone: the statement ends with it
            log.warning("postgresql: cancel request failed: %s", exc)

    def interrupted(self, exc: BaseException) -> bool:
        return isinstance(exc, self._canceled)

    @property
    def broken(self) -> bool:
        return bool(self.raw.closed or self.raw.broken)


class PgDatabase:
    """A pool of psycopg connections. ``await PgDatabase.open(url, pool_size=5)``."""

    def __init__(self, url: str, pool_size: int, psycopg: Any) -> None:
        self.url = url
        self.path = redact(url)
        self.closed = False
        self._psycopg = psycopg
        self._slots = trio.Semaphore(pool_size)
        self._pool_size = pool_size
        self._idle: deque[PgConnection] = deque()
        self._all: set[PgConnection] = set()
        self._returned = trio.lowlevel.ParkingLot()
        pool_metrics(self)

    def usage(self) -> tuple[int, int, int]:
        """Connections in use (or being made for a user), idle, and at most."""
        in_use = self._pool_size - self._slots.value
        return in_use, len(self._idle), self._pool_size

    @classmethod
    async def open(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> PgDatabase:
        """Connect once now (a wrong URL fails here, as a ``DatabaseError``)."""
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        db = cls(url, pool_size, _psycopg())
        db._idle.append(await db._connect())
        return db

    async def _connect(self) -> PgConnection:
        """A new connection. Cancelled while connecting: the caller leaves at once (the
        connect cannot be interrupted), and the connection, when it comes, is closed."""
        psycopg = self._psycopg
        lock = threading.Lock()
        state: dict[str, Any] = {"abandoned": False, "raw": None}

        def connect() -> Any:
            raw = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            with lock:
                if state["abandoned"]:
                    raw.close()
                    return None
                state["raw"] = raw
            return raw

        try:
            raw = await trio.to_thread.run_sync(connect, abandon_on_cancel=True)
        except trio.Cancelled:
            with lock:
                state["abandoned"] = True
                if state["raw"] is not None:  # it connected as we were cancelled
                    state["raw"].close()
            raise
        conn = PgConnection(raw, psycopg)
        self._all.add(conn)
        return conn

    @asynccontextmanager
    async def checkout(self) -> AsyncIterator[PgConnection]:
        """A connection of the pool for the block (waiting, cancellably, for a free one)."""
        if self.closed:
            raise ORMError("the engine is closed")
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                yield conn
            finally:
                # A connection still inside a transaction (a rollback that was itself
                # interrupted) must not carry it to its next user.
                if self.closed or conn.broken or conn.view.in_transaction:
                    await self._discard(conn)
                else:
                    self._idle.append(conn)
                self._returned.unpark_all()

    transaction_connection = checkout

    async def run_statement(self, job: Job[T]) -> T:
        """One statement outside a transaction, on a pooled connection, in a worker
        thread whose statement the server cancels if the caller is cancelled."""
        async with self.checkout() as conn:
            result: T = await with_worker(conn, lambda worker: worker.run(job))
            return result

    async def discard(self, conn: PgConnection) -> None:
        await self._discard(conn)

    async def _discard(self, conn: PgConnection) -> None:
        if conn in self._all:
            self._all.discard(conn)
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(conn.raw.close, limiter=conn.limiter)

    async def close(self) -> None:
        """Refuse new work, wait (cancellably) until every connection is back, close."""
        self.closed = True
        while len(self._idle) < len(self._all):
            await self._returned.park()
        while self._idle:
            await self._discard(self._idle.pop())


class PostgreSQLDialect(StandardDialect):
    """PostgreSQL: standard SQL throughout (information_schema, transactional DDL,
    ``DROP COLUMN`` in place); its types, psycopg's errors, a pool as its backend."""

    name = "postgresql"
    types = {
        bool: "boolean",
        int: "bigint",  # a Python int: 64 bits at least, as sqlite's integer
        float: "double precision",
        str: "text",
        bytes: "bytea",
        datetime.datetime: "timestamp",
    }

    def wrap_error(self, exc: BaseException) -> DatabaseError | None:
        psycopg = sys.modules.get("psycopg")  # not imported until a database is opened
        if psycopg is None or not isinstance(exc, psycopg.Error):
            return None
        if isinstance(exc, psycopg.IntegrityError):
            return IntegrityError(exc)
        return DatabaseError(exc)

    async def open(self, path: str | os.PathLike[str], *, pool_size: int | None) -> PgDatabase:
        """A pool, connecting once now. Cancelled while connecting: at once; the
        connection, when it comes, is closed."""
        size = DEFAULT_POOL_SIZE if pool_size is None else pool_size
        with self.errors:
            return await PgDatabase.open(os.fspath(path), pool_size=size)
