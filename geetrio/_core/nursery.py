"""A nursery for an object's background tasks, behind an ``async with`` of its own;
``OwnsTasks``, the base of the objects built that way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Self

import trio

__all__ = ["OwnsTasks", "unwrapped_nursery"]


@asynccontextmanager
async def unwrapped_nursery() -> AsyncIterator[trio.Nursery]:
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


class OwnsTasks:
    """Base of the objects that own resources and background tasks for the span of
    their ``async with`` (``HTTPPool``, ``XClient``, ``EtcdDiscovery``, ``Bridge``).

    ``__aenter__`` opens an exit stack and calls ``await self._open(stack)``, where a
    subclass enters what it owns (by default: a ``unwrapped_nursery``, kept in
    ``self._nursery``); if that fails, what was entered is closed again. ``__aexit__``
    calls ``self._closing()`` (cancel what must not be waited for), then unwinds the
    stack, last entered first. An exception from the body comes out as itself.
    """

    _stack: AsyncExitStack | None = None
    _nursery: trio.Nursery | None = None

    async def _open(self, stack: AsyncExitStack) -> None:
        self._nursery = await stack.enter_async_context(unwrapped_nursery())

    def _closing(self) -> None:
        """Called first on exit, before anything entered is closed."""

    async def __aenter__(self) -> Self:
        stack = AsyncExitStack()
        try:
            await self._open(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing()
        stack, self._stack, self._nursery = self._stack, None, None
        if stack is not None:
            await stack.__aexit__(exc_type, exc, tb)
