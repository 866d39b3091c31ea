"""Type aliases shared across ``geetrio.cache``. A leaf: imports nothing of ours."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["EvictionCallback", "Getter", "HashFn"]

Getter = Callable[[str], Awaitable[bytes]] | Callable[[str], bytes]
"""``async def load(key) -> bytes``, or a plain function (run in a worker thread)."""

HashFn = Callable[[bytes], int]
"""Bytes to an unsigned 32-bit int, like Go's ``hash.Hash32``."""

EvictionCallback = Callable[[str, bytes], object]
"""``on_evicted(key, value)`` of an ``LRUCache``."""
