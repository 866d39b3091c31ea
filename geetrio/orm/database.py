"""The sqlite backend: a connection used from one thread at a time. (PostgreSQL:
``postgres.py``, the same contract over a pool.)

Discipline (docs/architecture.md, trio fact 3): one ``sqlite3.Connection`` per engine, opened with
``check_same_thread=False`` and used under a trio ``Lock`` — held for one statement, or
for a whole transaction so that no other task's statement lands inside it — and a
``CapacityLimiter(1)``, so at most one worker thread holds the connection.

Two ways into a worker thread, both through ``trio.to_thread.run_sync``:

- a statement outside a transaction takes one hop (``run_hop``);
- a transaction starts a worker thread for its lifetime (``TransactionWorker``), inside
  a nursery of the task that runs the transaction, and hands it jobs: measured here, a
  job handed to a running worker costs ~26 us against ~45 us for a fresh hop.

Cancellation: a progress handler runs every ``PROGRESS_STEPS`` sqlite VM steps and
aborts the statement when its caller was cancelled (``trio.from_thread.check_cancelled``
on a hop; a flag the caller's abort sets on a worker). sqlite then raises
"interrupted", the caller turns that into its ``Cancelled``, and the connection stays
usable. A statement waiting on another process's lock is not interruptible, so the
busy timeout is short and retried from trio with a cancellable sleep.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import outcome
import trio

from .errors import ORMError
from .types import Job

__all__ = [
    "Backend",
    "Connection",
    "Database",
    "Job",
    "TransactionWorker",
    "retry_locked",
    "with_worker",
]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")

PROGRESS_STEPS = 1000
BUSY_TIMEOUT = 0.05  # seconds sqlite itself waits on a lock held by another process
LOCKED_RETRY_FOR = 5.0  # then trio retries, sleeping, for up to this long
_NOT_RUN = object()


def _never() -> bool:
    return False


def _caller_cancelled() -> bool:
    """In the worker thread (progress handler): has the waiting trio task been cancelled?

    ``check_cancelled`` reports that by raising ``Cancelled`` *in this thread*; it is
    only a signal here, turned into "abort the statement". Nothing is swallowed: the
    task itself raises its own ``Cancelled`` once the hop returns (``_hop``).
    """
    try:
        trio.from_thread.check_cancelled()
    except trio.Cancelled:  # the signal, not the task's cancellation: see above
        return True
    return False


class Connection(Protocol):
    """One driver connection as a worker thread uses it: what ``TransactionWorker``
    needs of a backend."""

    limiter: trio.CapacityLimiter  # at most one thread on the connection

    def run_job(self, job: Job[T], should_abort: Callable[[], bool]) -> T:
        """In a worker thread: run ``job`` on the connection."""
        ...

    def interrupt(self) -> None:
        """From the trio thread: stop the statement running now (its job was aborted)."""
        ...

    def interrupted(self, exc: BaseException) -> bool:
        """Whether ``exc`` is how the driver reports an interrupted statement."""
        ...


class Backend(Protocol):
    """An open database as the engine uses it (``Database`` here, ``PgDatabase``)."""

    path: str
    closed: bool

    async def run_hop(self, job: Job[T]) -> T:
        """One statement outside a transaction."""
        ...

    def transaction_connection(self) -> Any:
        """``async with``: a connection held for one transaction (``Connection``)."""
        ...

    async def close_after(self, conn: Any) -> None:
        """``close()`` gave up waiting for the transaction on ``conn``: close it now."""
        ...

    async def close(self) -> None:
        """Wait (cancellably) for the transactions, then close."""
        ...


class Database:
    """An open sqlite database. Create with ``await Database.open(path)``."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.lock = trio.Lock()
        self.limiter = trio.CapacityLimiter(1)
        self.closed = False
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

    async def close_after(self, conn: Database) -> None:
        """``close()`` gave up waiting for this transaction: close when it ends."""
        await self.close_locked()

    def run_job(self, job: Job[T], should_abort: Callable[[], bool]) -> T:
        """In a worker thread: run ``job`` on the connection."""
        self._should_abort = should_abort
        try:
            return job(self.conn)
        finally:
            self._should_abort = _never

    async def run_hop(self, job: Job[T]) -> T:
        """One statement outside a transaction: the lock, one hop, retries on "locked"."""
        async with self.lock:
            if self.closed:
                raise ORMError("the engine is closed")
            result: T = await retry_locked(lambda: self._hop(job))
            return result

    async def _hop(self, job: Job[T]) -> T:
        try:
            return await trio.to_thread.run_sync(
                self.run_job, job, _caller_cancelled, limiter=self.limiter
            )
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                await trio.lowlevel.checkpoint_if_cancelled()
            raise

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


class TransactionWorker:
    """A worker thread serving one transaction's jobs, in order.

    ``serve_in_thread`` runs ``serve`` in a thread until ``stop()``. ``run(job)`` hands
    a job over and parks the calling task until the worker reschedules it; cancelling
    the caller marks the job aborted (the progress handler interrupts it, or it is
    skipped if not started) and the caller then sees ``Cancelled``. Every job handed
    over before ``stop()`` is answered; ``run`` after ``stop()`` raises ``ORMError`` at
    once, so no caller ever parks on a worker that has gone.
    """

    def __init__(self, db: Connection) -> None:
        self._db = db
        self._jobs: queue.SimpleQueue[tuple[Job[Any], trio.lowlevel.Task, _JobState] | None] = (
            queue.SimpleQueue()
        )
        self._token = trio.lowlevel.current_trio_token()
        self._stopped = False

    async def serve_in_thread(self) -> None:
        await trio.to_thread.run_sync(self.serve, limiter=self._db.limiter)

    def serve(self) -> None:
        reschedule, run_soon = trio.lowlevel.reschedule, self._token.run_sync_soon
        while (item := self._jobs.get()) is not None:
            job, task, state = item
            if state.aborted:
                result: outcome.Outcome[Any] = outcome.Value(_NOT_RUN)
            else:
                state.running = True
                result = outcome.capture(self._db.run_job, job, state.is_aborted)
                state.running = False
            run_soon(reschedule, task, result)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._jobs.put(None)

    async def run(self, job: Job[T]) -> T:
        if self._stopped:
            raise ORMError("the transaction is over")
        state = _JobState()
        self._jobs.put((job, trio.lowlevel.current_task(), state))

        def abort(_: object) -> trio.lowlevel.Abort:
            state.aborted = True  # the worker interrupts or skips it, then wakes us
            if state.running:
                self._db.interrupt()
            return trio.lowlevel.Abort.FAILED

        try:
            result = await trio.lowlevel.wait_task_rescheduled(abort)
        except Exception as exc:
            if state.aborted and self._db.interrupted(exc):
                await trio.lowlevel.checkpoint()  # raises the pending Cancelled
            raise
        if result is _NOT_RUN:
            await trio.lowlevel.checkpoint()  # aborted before it started: Cancelled
        return result  # type: ignore[no-any-return]


async def with_worker(conn: Connection, body: Callable[[TransactionWorker], Awaitable[T]]) -> T:
    """``await body(worker)`` with a worker thread serving ``conn`` meanwhile (in a
    nursery of the caller's); ``body``'s exception comes out as itself, not in a group."""
    box: list[T] = []
    error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        worker = TransactionWorker(conn)
        nursery.start_soon(worker.serve_in_thread)
        try:
            box.append(await body(worker))
        except BaseException as exc:  # re-raised below, outside the nursery (no group)
            error = exc
        finally:
            worker.stop()
    if error is not None:
        raise error
    return box[0]


class _JobState:
    __slots__ = ("aborted", "running")

    def __init__(self) -> None:
        self.aborted = False
        self.running = False  # set in the worker thread while the job runs

    def is_aborted(self) -> bool:
        return self.aborted


async def retry_locked(attempt: Callable[[], Any]) -> Any:
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
