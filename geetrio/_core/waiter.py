"""``Waiter``: a one-shot future for one trio task.

A task awaits ``wait()``; another task (or a callback the trio thread runs for a worker
thread, ``token.run_sync_soon(waiter.set, result)``) hands it an ``outcome`` with
``set``. What cancellation does is the waiter's choice, made at ``wait``:

- **abandon** (the default): the task stops waiting at once and the waiter is
  ``abandoned``; a result set later is dropped (``set`` returns False), so the other
  side knows nobody took it (the RPC client's late replies, the pipelined HTTP
  client's answers to a cancelled caller).
- **ask** (``on_cancel=f``): ``f()`` asks the other side to stop early and the task
  keeps waiting for the result, whatever it is (a sqlite statement interrupted in its
  worker thread: the caller sees the error, then its ``Cancelled``).

A result set before ``wait`` is kept; ``wait`` then returns it after a
cancel-shielded checkpoint (a schedule point that cannot lose it). This is trio's
``wait_task_rescheduled`` written once: the three futures of the code base (the RPC
client's calls, the pipelined HTTP client's calls, a transaction's worker jobs) are it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import outcome
import trio

__all__ = ["Waiter"]

T = TypeVar("T")


class Waiter(Generic[T]):
    __slots__ = ("_outcome", "_task", "abandoned")

    def __init__(self) -> None:
        self._task: trio.lowlevel.Task | None = None  # parked in wait()
        self._outcome: outcome.Outcome[T] | None = None
        self.abandoned = False  # its task was cancelled and stopped waiting

    @property
    def done(self) -> bool:
        """A result was set (whether or not its task has taken it yet)."""
        return self._outcome is not None

    def set(self, result: outcome.Outcome[T]) -> bool:
        """Hand over the result (from the trio thread); False when nobody will take it:
        the waiter was abandoned or already has one."""
        if self.abandoned or self._outcome is not None:
            return False
        self._outcome = result
        task = self._task
        if task is not None:
            self._task = None
            trio.lowlevel.reschedule(task, result)
        return True

    async def wait(self, on_cancel: Callable[[], None] | None = None) -> T:
        """The result, once set. Cancelled: without ``on_cancel``, ``Cancelled`` at once
        and the waiter abandoned; with it, ``on_cancel()`` and the wait goes on."""
        if self._outcome is not None:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return self._outcome.unwrap()
        self._task = trio.lowlevel.current_task()

        def abort(_: object) -> trio.lowlevel.Abort:
            if on_cancel is not None:
                on_cancel()
                return trio.lowlevel.Abort.FAILED
            self._task = None
            self.abandoned = True
            return trio.lowlevel.Abort.SUCCEEDED

        result: T = await trio.lowlevel.wait_task_rescheduled(abort)
        return result
