"""The one accept loop every geetrio server (HTTP, RPC) uses.

Before each accept it takes a slot of the server's share of the process's connection
budget (``budget.admit``: past it new clients wait in the listen backlog, or take the
place of the oldest idle connection). Out of descriptors or memory anyway (EMFILE,
ENFILE, ENOMEM, ENOBUFS) it backs off, 10 ms doubling to 1 s, and logs once per burst,
not once per try; any other error ends the loop (and the server) as a bug would.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

import trio

from .backoff import Backoff
from .budget import Share, admit

__all__ = ["CAPACITY_ERRNOS", "accept_loop"]

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
