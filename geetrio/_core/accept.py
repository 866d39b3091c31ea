"""The one accept loop every geetrio server (HTTP, RPC) uses, and the one shape of a
server's life around it (``serve_until_shutdown``: graceful shutdown with grace).

Before each accept it takes a slot of the server's share of the process's connection
budget (``budget.admit``: past it new clients wait in the listen backlog, or take the
place of the oldest idle connection). Out of descriptors or memory anyway (EMFILE,
ENFILE, ENOMEM, ENOBUFS) it backs off, 10 ms doubling to 1 s, and logs once per burst,
not once per try; any other error ends the loop (and the server) as a bug would.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from .backoff import Backoff
from .budget import Share, admit

__all__ = ["CAPACITY_ERRNOS", "accept_loop", "serve_until_shutdown"]

CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


async def accept_loop(
    listener: trio.abc.Listener[Any],
    share: Share,
    start: Callable[[trio.abc.Stream], None],
    *,
    evict: Callable[[], bool],
    open_count: Callable[[], int],
    log: logging.Logger,
    prefix: str = "",
) -> None:
    """Accept on ``listener`` until cancelled; ``start(stream)`` each new connection
    (it must release its slot of ``share`` when the connection ends). ``evict()``
    closes the oldest idle connection (False when none); ``open_count()`` is for logs."""
    backoff = Backoff(0.01, 1.0)
    async with listener:
        while True:
            await admit(share, listener, evict)
            try:
                stream = await listener.accept()
            except OSError as exc:
                share.release()
                if exc.errno not in CAPACITY_ERRNOS:
                    raise
                if backoff.failures == 0:
                    log.error(
                        "%saccept failed (%s) with %d connections open; backing off",
                        prefix,
                        errno.errorcode[exc.errno],
                        open_count(),
                    )
                await trio.sleep(backoff.next())
                continue
            if backoff.failures:
                log.warning("%saccepting again after %d failed attempts", prefix, backoff.failures)
                backoff.reset()
            start(stream)


async def serve_until_shutdown(
    listeners: Sequence[trio.abc.Listener[Any]],
    accept: Callable[[trio.abc.Listener[Any], trio.Nursery], Awaitable[None]],
    *,
    shutdown: trio.Event | None,
    grace: float,
    drain: Callable[[], None],
    started: Callable[[], None],
    background: Sequence[Callable[[], Awaitable[None]]] = (),
) -> None:
    """A server's life: ``accept(listener, connections)`` on each listener (and the
    ``background`` tasks) until cancelled, or until ``shutdown`` is set; then the
    listeners close (new clients are refused), ``drain()`` tells the connections, and
    those still busy get ``grace`` seconds before they are cancelled. ``started()`` once
    every accept loop is running. The connections' nursery encloses the acceptors', so
    no connection outlives the server."""
    async with trio.open_nursery() as connections:
        async with trio.open_nursery() as acceptors:
            for task in background:
                acceptors.start_soon(task)
            for listener in listeners:
                acceptors.start_soon(accept, listener, connections)
            started()
            if shutdown is None:
                await trio.sleep_forever()
            await shutdown.wait()
            acceptors.cancel_scope.cancel(reason="graceful shutdown")
        drain()
        connections.cancel_scope.deadline = trio.current_time() + grace
