"""One execution per key in flight (GeeCache day 6), on ``trio.Event``.

Leaf module. The design and its reasons (docs/architecture.md, trio fact 1;
groupcache's singleflight):

- The first caller of a key (the leader) runs the function in its own task; callers
  arriving meanwhile (followers) wait on the flight's ``done`` event.
- The leader's ``finally`` first removes the flight from the table, *then* sets
  ``done``. A woken follower that must retry therefore starts a fresh flight instead
  of finding the finished one.
- A value or an ``Exception`` is stored for every follower. ``trio.Cancelled`` (and
  ``KeyboardInterrupt``) belong to the leader alone: the flight ends without a result,
  and each follower loops to take over the load itself. So a cancelled leader never
  strands its followers nor leaves a stale entry, and no follower sees its
  cancellation — the load may run twice.
- Followers cancel independently: they only sit in ``Event.wait()``.
- ``forget(key)`` detaches the flight in the air: later callers start a new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import trio

__all__ = ["SingleFlight"]

T = TypeVar("T")
_UNSET: object = object()


class _Flight(Generic[T]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.value: T | object = _UNSET
        self.error: Exception | None = None


class SingleFlight(Generic[T]):
    """``await sf.do(key, fn)``: concurrent calls with the same key share one ``fn()``.

    Cancellation: cancelling a follower only stops its wait; cancelling the leader
    stops its ``fn()`` and one follower runs ``fn()`` again.
    """

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._flights

    def forget(self, key: str) -> None:
        """Callers from now on start a new flight for ``key`` instead of joining the one
        in the air (its callers so far still get its result): after a write, nobody who
        asks later may get a value loaded before it. Go's ``singleflight.Forget``."""
        self._flights.pop(key, None)

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """``await fn()`` once for all concurrent callers of ``key``; each gets its
        result or exception. Cancelled: a follower only stops waiting; the leader's
        ``fn`` is cancelled with it, and the followers then start a new flight."""
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, fn)
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.value is not _UNSET:
                return flight.value  # type: ignore[return-value]
            # The leader went away without a result (cancelled): try to lead ourselves.

    async def _lead(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        try:
            value = await fn()
            flight.value = value
            return value
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            # Remove before waking the followers (see the module docstring).
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()
