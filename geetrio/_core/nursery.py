"""A nursery for an object's background tasks, behind an ``async with`` of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

__all__ = ["background_nursery"]


@asynccontextmanager
async def background_nursery() -> AsyncIterator[trio.Nursery]:
    """Yield a nursery for background tasks that handle their own errors.

    An exception from the ``async with`` body comes out as itself, not wrapped in an
    ``ExceptionGroup`` as a plain nursery would (since trio 0.25): users of
    ``async with HTTPPool(...)`` or ``async with rpc.dial(...)`` catch their own
    exceptions. The tasks left are cancelled first.
    """
    error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        try:
            yield nursery
        except BaseException as exc:  # re-raised below, outside the nursery
            error = exc
            nursery.cancel_scope.cancel()
    if error is not None:
        raise error
