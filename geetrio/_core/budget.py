"""One budget of connections per process, shared by every server in it.

A process has one ``RLIMIT_NOFILE``; the stack runs seven servers in one process. If
each server capped its connections at the whole limit, one flooded server would take
every descriptor and the others could not accept (nor open files or dial peers). So
the budget (the soft limit less a reserve for files, databases and outgoing
connections) is shared: each server holds a ``Share`` and asks it before each accept.

The rule: a server may accept while it is under its own cap (``max_connections``, if
set) and the budget left after it still covers every other server's guaranteed floor —
``budget // (2 * servers)`` connections each (at most its cap), counting what they
already hold. A flood on one server can take at most the budget less the
others' floors; the others keep accepting.

The budget is per ``trio.run`` (a ``RunVar``): each run — a test, a program — has its
own, sized from the limit when it is first asked for.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import Any

import trio

__all__ = [
    "Budget",
    "Share",
    "admit",
    "default_budget",
    "process_budget",
    "use_budget",
]

_BUDGET: trio.lowlevel.RunVar[Budget] = trio.lowlevel.RunVar("geetrio.connection_budget")


def default_budget() -> int:
    """Connections the process can hold open: its soft ``RLIMIT_NOFILE`` less a reserve
    (an eighth, at least 64) for files, databases and outgoing connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        soft = 1 << 20
    return max(soft - max(64, soft // 8), 16)


def process_budget() -> Budget:
    """This run's budget (made on first use)."""
    try:
        return _BUDGET.get()
    except LookupError:
        budget = Budget(default_budget())
        _BUDGET.set(budget)
        return budget


class Budget:
    """``total`` connections shared by the servers that took a ``share()``."""

    def __init__(self, total: int) -> None:
        if total <= 0:
            raise ValueError("a connection budget must be positive")
        self.total = total
        self.used = 0
        self.shares: list[Share] = []
        self._released = trio.lowlevel.ParkingLot()

    def share(self, cap: int | None = None) -> Share:
        """A server's share; ``cap`` bounds that server alone. ``close()`` it when done."""
        share = Share(self, cap)
        self.shares.append(share)
        self._released.unpark_all()  # the floors changed
        return share

    @property
    def floor(self) -> int:
        """The connections each server is guaranteed, whatever the others hold."""
        return self.total // (2 * max(len(self.shares), 1))

    def _admits(self, share: Share) -> bool:
        if share.cap is not None and share.used >= share.cap:
            return False
        floor = self.floor
        held_back = 0  # what the others may still claim of their floors
        for other in self.shares:
            if other is not share:
                own = floor if other.cap is None else min(floor, other.cap)
                held_back += max(0, own - other.used)
        return self.used + 1 + held_back <= self.total

    def _wake(self) -> None:
        if self._released:
            self._released.unpark_all()


class Share:
    """One server's draw on the budget: ``await acquire()`` before accepting,
    ``release()`` when the connection closed."""

    def __init__(self, budget: Budget, cap: int | None) -> None:
        if cap is not None and cap <= 0:
            raise ValueError("max_connections must be positive or None")
        self.budget = budget
        self.cap = cap
        self.used = 0

    def try_acquire(self) -> bool:
        if not self.budget._admits(self):
            return False
        self.used += 1
        self.budget.used += 1
        return True

    async def acquire(self) -> None:
        """Wait until this server may hold one more connection, then take it."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while not self.try_acquire():
            await self.budget._released.park()
        await trio.lowlevel.cancel_shielded_checkpoint()

    def release(self) -> None:
        self.used -= 1
        self.budget.used -= 1
        self.budget._wake()

    def close(self) -> None:
        """The server stopped: its floor goes back to the others."""
        if self in self.budget.shares:
            self.budget.shares.remove(self)
            self.budget._wake()


def use_budget(total: int) -> Budget:
    """Give this run a budget of ``total`` connections (before its servers start):
    for tests, and for programs that know better than the descriptor limit."""
    budget = Budget(total)
    _BUDGET.set(budget)
    return budget


async def admit(share: Share, listener: trio.abc.Listener[Any], evict: Callable[[], bool]) -> None:
    """Take a slot of ``share`` for the next accept. When the server is full and a
    client waits in the listen backlog, ``evict()`` closes the server's oldest idle
    connection to make room (nginx does the same with idle keep-alive connections):
    a flood of connections that only sit there cannot lock out a client that will use
    its connection. With nothing idle to close, wait for a slot. A slot free at once
    costs no checkpoint: the accept that follows is one (a connection accepted is one
    trip through the scheduler, not two)."""
    if share.try_acquire():
        return
    sock = listener.socket if isinstance(listener, trio.SocketListener) else None
    if sock is not None:
        await trio.lowlevel.wait_readable(sock)  # a client is waiting
        if share.try_acquire():
            return
        evict()  # its slot comes back as it closes
    await share.acquire()
