"""Retry delays: ``first``, doubling up to ``ceiling``; back to ``first`` after a success.

Every retry loop of geetrio (accepting past EMFILE, etcd's keep-alive and watch, the
registry heartbeat) waits by one of these, so none retries in a tight loop and all
recover at the same pace.
"""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """``delay = backoff.next()`` before each retry; ``backoff.reset()`` once it worked.
    ``failures`` counts the retries since the last reset."""

    def __init__(self, first: float, ceiling: float) -> None:
        if not 0 < first <= ceiling:
            raise ValueError("need 0 < first <= ceiling")
        self.first = first
        self.ceiling = ceiling
        self.failures = 0
        self._next = first

    def next(self) -> float:
        """The delay before the next retry (then the one after it doubles)."""
        delay = self._next
        self._next = min(delay * 2, self.ceiling)
        self.failures += 1
        return delay

    def peek(self) -> float:
        """The delay ``next()`` would give, without taking it."""
        return self._next

    def reset(self) -> None:
        self._next = self.first
        self.failures = 0
