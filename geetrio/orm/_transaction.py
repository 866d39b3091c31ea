"""Transactions: a worker thread per top-level transaction, savepoints for nested ones.

Each open transaction or savepoint is an ``OpenTransaction``, the value of a context
variable, so statements of the task that runs ``fn`` — and of every task started from it
— find it.
Three rules keep that sound:

- **Serialised nesting.** A level has at most one nested level open at a time. A nested
  ``transaction()`` waits until its sibling's has ended, and so does a plain statement
  of the outer level: both would otherwise land inside the sibling's savepoint and be
  rolled back with it (they share sqlite's one savepoint stack).
- **Stale contexts.** A task can outlive the transaction it was started in (started into
  a nursery outside ``fn``). Once ``fn`` has returned, that level is closed to new work:
  the task's statements run in the nearest enclosing level still open, or on their own
  when there is none. Nothing ever waits on a worker that has stopped.
- **Orphans.** If an enclosing level ends while a nested ``fn`` is still running (only
  possible for a nested transaction run by such a stray task), the nested level is
  orphaned: its statements raise ``ORMError``, and so does its end.

Every wait here is a trio wait (a lock, a parking lot, a worker job) and cancellable;
only the rollback runs shielded, and it is bounded.
"""

from __future__ import annotations

import contextvars
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio

from ._backend import Backend, TransactionWorker, with_worker
from ._dialect import Dialect
from ._errors import ORMError
from ._executor import Executor
from ._metrics import transaction as count_transaction
from ._session import Session
from ._types import Job

__all__ = ["OpenTransaction", "current_level", "run_transaction"]

log = logging.getLogger("geetrio.orm")

T = TypeVar("T")
ROLLBACK_TIMEOUT = 5.0  # seconds a shielded rollback may take before it is abandoned


class State(enum.Enum):
    OPEN = "open"  # fn is running: statements run here
    RETURNED = "returned"  # fn finished; committing or rolling back; closed to new work
    ENDED = "ended"
    ORPHANED = "orphaned"  # an enclosing level ended while fn was still running


class OpenTransaction:
    """One open transaction (``parent is None``) or savepoint."""

    __slots__ = (
        "_children_done",
        "child",
        "engine",
        "parent",
        "root",
        "savepoints",
        "state",
        "worker",
    )

    def __init__(
        self, engine: Executor, worker: TransactionWorker, parent: OpenTransaction | None
    ) -> None:
        self.engine = engine
        self.worker = worker  # the root's thread: savepoints run on it too
        self.parent = parent
        self.root: OpenTransaction = parent.root if parent is not None else self
        self.state = State.OPEN
        self.child: OpenTransaction | None = None
        self.savepoints = 0  # on the root: names savepoints uniquely
        self._children_done = trio.lowlevel.ParkingLot()

    def live(self) -> OpenTransaction | None:
        """The level a statement of a task in this context runs in: this one or the
        nearest open ancestor; ``None`` when every one has ended."""
        level: OpenTransaction | None = self
        while level is not None:
            if level.state is State.OPEN:
                return level
            if level.state is State.ORPHANED:
                raise ORMError(
                    "the transaction enclosing this nested transaction ended while it was "
                    "still running; its work went with it"
                )
            level = level.parent
        return None

    async def wait_for_child(self) -> None:
        """Wait (cancellably) until no nested transaction is open at this level."""
        while self.child is not None:
            await self._children_done.park()

    async def enter_child(self, child: OpenTransaction) -> None:
        await self.wait_for_child()
        self.child = child

    def leave_child(self, child: OpenTransaction) -> None:
        if self.child is child:
            self.child = None
            self._children_done.unpark_all()

    def end(self) -> None:
        """This level is over: nested levels still running are orphaned."""
        self.state = State.ENDED
        child = self.child
        while child is not None:
            if child.state is State.OPEN:
                child.state = State.ORPHANED
            elif child.state is State.RETURNED:
                child.state = State.ENDED
            child = child.child
        self._children_done.unpark_all()


_current: contextvars.ContextVar[OpenTransaction | None] = contextvars.ContextVar(
    "geetrio_orm_transaction", default=None
)


def current_level(engine: Executor) -> OpenTransaction | None:
    """The open level of ``engine`` that statements of this task run in, if any."""
    level = _current.get()
    if level is None or level.engine is not engine:
        return None
    return level.live()


async def run_transaction(
    engine: Executor,
    db: Backend,
    fn: Callable[[Session], Awaitable[T]],
    *,
    foreign_keys_off: bool = False,
) -> T:
    level = current_level(engine)
    if level is not None:
        return await _savepoint(level, fn)
    if engine.closed:
        raise ORMError("the engine is closed")
    async with db.transaction_connection() as conn:
        try:
            return await _top_level(engine, conn, fn, foreign_keys_off)
        finally:
            if engine.closed:  # close() gave up waiting for this transaction
                await db.discard(conn)


async def _top_level(
    engine: Executor, conn: Any, fn: Callable[[Session], Awaitable[T]], foreign_keys_off: bool
) -> T:
    return await with_worker(conn, lambda worker: _run_root(engine, worker, fn, foreign_keys_off))


async def _run_root(
    engine: Executor,
    worker: TransactionWorker,
    fn: Callable[[Session], Awaitable[T]],
    foreign_keys_off: bool,
) -> T:
    root = OpenTransaction(engine, worker, None)
    token = _current.set(root)
    try:
        dialect = engine.dialect
        begin, finish = dialect.transaction_jobs(foreign_keys_off=foreign_keys_off)
        await _control(dialect, worker, begin)
        try:
            result = await fn(Session(engine))
            root.state = State.RETURNED
            await root.wait_for_child()  # a stray task's nested transaction still open
            await _control(dialect, worker, lambda c: finish(c, "COMMIT"))
            count_transaction(dialect.name, "commit")
        except BaseException:  # includes Cancelled: roll back, then re-raise it
            root.state = State.RETURNED
            await _undo(worker, lambda c: finish(c, "ROLLBACK"))
            count_transaction(dialect.name, "rollback")
            raise
        finally:
            root.end()
        return result
    finally:
        _current.reset(token)


async def _savepoint(parent: OpenTransaction, fn: Callable[[Session], Awaitable[T]]) -> T:
    worker = parent.worker
    level = OpenTransaction(parent.engine, worker, parent)
    await parent.enter_child(level)
    level.root.savepoints += 1
    dialect = parent.engine.dialect
    name = dialect.quote_identifier(f"geetrio_sp{level.root.savepoints}")
    token = _current.set(level)
    try:
        await _control(dialect, worker, lambda c: c.execute(f"SAVEPOINT {name}"))
        try:
            result = await fn(Session(parent.engine))
            if level.state is State.ORPHANED:
                raise ORMError(
                    "the enclosing transaction ended before this nested transaction "
                    "returned; its work was committed or rolled back with it"
                )
            level.state = State.RETURNED
            await level.wait_for_child()  # a stray task's nested transaction still open
            await _control(dialect, worker, lambda c: c.execute(f"RELEASE {name}"))
        except BaseException:  # includes Cancelled: roll back to the savepoint, re-raise
            if level.state is not State.ORPHANED:  # an orphan's savepoint is gone already
                level.state = State.RETURNED

                def rollback_to_savepoint(conn: Any) -> None:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")

                await _undo(worker, rollback_to_savepoint)
            raise
        return result
    finally:
        level.end()
        parent.leave_child(level)
        _current.reset(token)


async def _control(dialect: Dialect, worker: TransactionWorker, job: Job[Any]) -> None:
    """BEGIN, COMMIT, SAVEPOINT...: the transaction's own statements, retried while
    another process holds the lock, errors wrapped."""
    with dialect.errors:
        await dialect.retry_busy(lambda: worker.run(job))


async def _undo(worker: TransactionWorker, job: Job[Any]) -> None:
    """A rollback that runs even while cancelled (shielded, bounded) and never replaces
    the exception being handled: its own failure is only logged."""
    with trio.move_on_after(ROLLBACK_TIMEOUT, shield=True) as scope:
        try:
            await worker.run(job)
        except Exception:
            log.exception("rollback failed")
    if scope.cancelled_caught:
        log.error("rollback did not finish within %s s", ROLLBACK_TIMEOUT)
