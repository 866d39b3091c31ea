"""What every backend gives the engine, and the worker thread a transaction runs on.

A backend (``sqlite.Database``, ``postgres.PgDatabase``) is an open database: it runs
one statement outside a transaction, lends a ``Connection`` for one transaction, and
closes. A transaction's statements run on a ``TransactionWorker``: one thread serving
that connection's jobs in order for the transaction's lifetime.

Jobs go to the worker, and answers come back, through doorbells (``_core.bell``: an
eventfd each way), about a third of what trio's ``run_sync_soon`` costs (figures there).
One task at a time waits on the answer bell; a job handed over while another is in
flight (tasks sharing the transaction) is answered through ``run_sync_soon``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import outcome
import trio

from .._core.bell import Bell
from .._core.waiter import Waiter
from ._errors import ORMError
from ._types import Job

__all__ = ["Backend", "Connection", "TransactionWorker", "hop", "with_worker"]

T = TypeVar("T")

_NOT_RUN = object()


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

    async def run_statement(self, job: Job[T]) -> T:
        """One statement outside a transaction."""
        ...

    def transaction_connection(self) -> Any:
        """``async with``: a connection held for one transaction (``Connection``)."""
        ...

    async def discard(self, conn: Any) -> None:
        """``close()`` gave up waiting for the transaction on ``conn``: close it now."""
        ...

    async def close(self) -> None:
        """Wait (cancellably) for the transactions, then close."""
        ...


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
        self._jobs: deque[tuple[Job[Any], _JobState] | None] = deque()
        self._intake = Bell()  # rung for each job handed over (None: stop)
        self._answers = Bell()  # rung for the answer of a ``by_bell`` job
        self._token = trio.lowlevel.current_trio_token()
        self._stopped = False
        self._reading = False  # a task waits on ``_answers``
        self._closing = False

    async def serve_in_thread(self) -> None:
        try:
            await trio.to_thread.run_sync(self.serve, limiter=self._db.limiter)
        finally:
            # Cancelled before the thread started (waiting for the connection's limiter,
            # say), ``serve`` never ran: the jobs handed over must still be answered, or
            # their callers — who wait for an answer even when cancelled — wait forever.
            self._answer_unserved()

    def _answer_unserved(self) -> None:
        self._stopped = True
        while self._jobs:
            item = self._jobs.popleft()
            if item is not None:
                self._answer(item[1], outcome.Value(_NOT_RUN))

    def _answer(self, state: _JobState, result: outcome.Outcome[Any]) -> None:
        if state.by_bell:
            state.answer = result
            self._answers.ring()
        else:
            self._token.run_sync_soon(state.set, result)

    def serve(self) -> None:
        jobs = self._jobs
        while True:
            self._intake.wait()  # rings merge: serve every job there is
            while jobs:
                item = jobs.popleft()
                if item is None:
                    return
                job, state = item
                if state.aborted:
                    result: outcome.Outcome[Any] = outcome.Value(_NOT_RUN)
                else:
                    state.running = True
                    result = outcome.capture(self._db.run_job, job, state.is_aborted)
                    state.running = False
                self._answer(state, result)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._jobs.append(None)
            self._intake.ring()

    def close(self) -> None:
        """Close the bells once nobody waits on them (after ``stop`` and the thread)."""
        self._closing = True
        if not self._reading:
            self._intake.close()
            self._answers.close()

    async def run(self, job: Job[T]) -> T:
        if self._stopped:
            raise ORMError("the transaction is over")
        state = _JobState()
        state.by_bell = not self._reading
        self._jobs.append((job, state))
        self._intake.ring()

        def stop_early() -> None:
            state.aborted = True  # the worker interrupts or skips it, then answers
            if state.running:
                self._db.interrupt()

        try:
            if state.by_bell:
                result = await self._read_answer(state, stop_early)
            else:
                result = await state.wait(on_cancel=stop_early)
        except Exception as exc:
            if state.aborted and self._db.interrupted(exc):
                await trio.lowlevel.checkpoint()  # raises the pending Cancelled
            raise
        done: T = await _not_run_is_cancelled(result)
        return done

    async def _read_answer(self, state: _JobState, stop_early: Callable[[], None]) -> Any:
        """The job's answer, once its bell rang. Cancelled: ``stop_early()`` and wait on
        for the answer (shielded), as ``state.wait(on_cancel=...)`` does."""
        self._reading = True
        try:
            try:
                await self._answers.wait_async()
            except trio.Cancelled:
                # Not lost: its scope stays cancelled, so trio raises it again at the
                # next checkpoint — run's own for a job skipped or interrupted, the
                # caller's next one for a job that finished anyway (its result stands).
                stop_early()
                with trio.CancelScope(shield=True):
                    await self._answers.wait_async()
        finally:
            self._reading = False
            if self._closing:
                self.close()
        assert state.answer is not None
        return state.answer.unwrap()


async def _not_run_is_cancelled(result: Any) -> Any:
    if result is _NOT_RUN:
        await trio.lowlevel.checkpoint()  # aborted before it started: Cancelled
    return result


async def hop(conn: Connection, job: Job[T], bell: Bell) -> T:
    """Run ``job`` on ``conn`` in a thread of trio's cache (``start_thread_soon``, what
    ``to_thread`` is built on, without its limiter and rescheduling: ``first()`` by key
    outside a transaction took 108-117 us here against 208-215 us through ``to_thread``),
    the task waiting on ``bell`` — the connection's;
    one hop at a time on it (the caller holds the connection). Cancelled: the job is
    skipped if it has not started, else asked to stop (``conn.interrupt()``, the
    progress handler); the task waits, shielded, until the thread is done with the
    connection, then raises ``Cancelled`` (a job that finished anyway gives its result,
    and ``Cancelled`` comes at the next checkpoint)."""
    state = _JobState()

    def work() -> Any:
        if state.aborted:
            return _NOT_RUN
        state.running = True
        try:
            return conn.run_job(job, state.is_aborted)
        finally:
            state.running = False

    def deliver(result: outcome.Outcome[Any]) -> None:  # in the thread, once done
        state.answer = result
        bell.ring()

    trio.lowlevel.start_thread_soon(work, deliver)
    try:
        await bell.wait_async()
    except trio.Cancelled:
        # Not lost: its scope stays cancelled, so trio raises it again at the next
        # checkpoint (below for a job skipped or interrupted).
        state.aborted = True
        if state.running:
            conn.interrupt()
        with trio.CancelScope(shield=True):
            await bell.wait_async()
    assert state.answer is not None
    try:
        result = state.answer.unwrap()
    except Exception as exc:
        if state.aborted and conn.interrupted(exc):
            await trio.lowlevel.checkpoint()  # raises the pending Cancelled
        raise
    done: T = await _not_run_is_cancelled(result)
    return done


async def with_worker(conn: Connection, body: Callable[[TransactionWorker], Awaitable[T]]) -> T:
    """``await body(worker)`` with a worker thread serving ``conn`` meanwhile (in a
    nursery of the caller's); ``body``'s exception comes out as itself, not in a group."""
    box: list[T] = []
    error: BaseException | None = None
    worker = TransactionWorker(conn)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker.serve_in_thread)
            try:
                box.append(await body(worker))
            except BaseException as exc:  # re-raised below, outside the nursery (no group)
                error = exc
            finally:
                worker.stop()
    finally:
        worker.close()
    if error is not None:
        raise error
    return box[0]


class _JobState(Waiter[Any]):
    """A job handed to the worker: the caller waits for its outcome; a cancelled caller
    asks for it to stop (``aborted``) and still waits for the answer."""

    __slots__ = ("aborted", "answer", "by_bell", "running")

    def __init__(self) -> None:
        super().__init__()
        self.aborted = False
        self.running = False  # set in the worker thread while the job runs
        self.by_bell = False  # answered through the worker's answer bell, not ``set``
        self.answer: outcome.Outcome[Any] | None = None

    def is_aborted(self) -> bool:
        return self.aborted
