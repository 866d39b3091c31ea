"""Run servers until SIGINT/SIGTERM: the first signal drains, a second stops at once."""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable

import trio

__all__ = ["run_until_signal"]

log = logging.getLogger("geetrio.http")


async def run_until_signal(
    main: Callable[[trio.Event], Awaitable[None]], *, unblock: bool = False
) -> None:
    """Run ``main(shutdown)``. The first SIGINT/SIGTERM sets ``shutdown`` (servers
    given it drain gracefully and return); a second one cancels everything. Returns
    when ``main`` does. ``unblock``: SIGINT/SIGTERM arrive blocked (a worker process,
    forked with them blocked) and are unblocked once they are watched for, so one sent
    while the process was starting is a graceful shutdown too, not a plain death."""
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(_watch_signals, shutdown, nursery.cancel_scope, unblock)
        await main(shutdown)
        nursery.cancel_scope.cancel(reason="servers stopped")


async def _watch_signals(
    shutdown: trio.Event,
    scope: trio.CancelScope,
    unblock: bool,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        if unblock:  # a signal that came meanwhile is delivered now, to the receiver
            signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))
        task_status.started()
        async for signum in signals:
            if shutdown.is_set():
                log.info("%s again: stopping now", signal.Signals(signum).name)
                scope.cancel(reason="second signal")
                return
            log.info("%s: shutting down gracefully", signal.Signals(signum).name)
            shutdown.set()
