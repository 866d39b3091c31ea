"""The two middlewares of Gee: ``logger()`` and ``recovery()``."""

from __future__ import annotations

import logging
import time

from .._core.text import shorten
from ..http import ProtocolError
from ._context import Context
from ._types import HandlerFunc

__all__ = ["logger", "recovery"]

log = logging.getLogger("geetrio.web")


def logger() -> HandlerFunc:
    """Log ``[status] path in duration`` for every request (logger ``geetrio.web``)."""

    async def log_request(c: Context) -> None:
        started = time.perf_counter()
        await c.next()
        if log.isEnabledFor(logging.INFO):
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("[%d] %s in %.3fms", c.status_code, shorten(c.request.target), elapsed_ms)

    return log_request


def recovery() -> HandlerFunc:
    """Turn any exception from the rest of the chain into a logged traceback and a
    500 ``{"message": "Internal Server Error"}``; the server keeps serving.
    Cancellation is not an exception here: it passes through untouched, and so does a
    ``ProtocolError`` from a streamed request body (the client's fault: the server
    answers it with its own status, 400 or 413, and closes)."""

    async def recover(c: Context) -> None:
        try:
            await c.next()
        except ProtocolError:
            raise
        except Exception as exc:
            log.exception(
                "recovered from %s in %s %s", type(exc).__name__, c.method, shorten(c.path)
            )
            c.reset_response()
            c.fail(500, "Internal Server Error")

    return recover
