"""A byte-budgeted LRU cache (GeeCache day 1). Leaf module: no trio, no I/O.

Sizes follow GeeCache: an entry costs ``len(key.encode()) + len(value)`` bytes. Every
operation is O(1) (``OrderedDict`` is a hash table threaded on a doubly linked list,
in C). Not thread-safe and not async: one trio task touches it at a time, which is
what a single-threaded trio program gives for free.
"""

from __future__ import annotations

from collections import OrderedDict

from ._types import EvictionCallback

__all__ = ["LRUCache"]


class LRUCache:
    """``max_bytes=0`` means unbounded. ``on_evicted(key, value)`` runs for entries
    pushed out by the budget or by ``remove_oldest`` (not for ``remove`` or updates).

    >>> lru = LRUCache(max_bytes=12)
    >>> lru.add("k1", b"1234"); lru.add("k2", b"5678")
    >>> lru.add("k3", b"9")           # 15 bytes > 12: k1, the oldest, goes
    >>> lru.get("k1"), lru.get("k2"), lru.nbytes
    (None, b'5678', 9)
    """

    __slots__ = ("_data", "_move_to_end", "max_bytes", "nbytes", "on_evicted")

    def __init__(self, max_bytes: int = 0, on_evicted: EvictionCallback | None = None) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0 (0 = unbounded)")
        self.max_bytes = max_bytes
        self.on_evicted = on_evicted
        self.nbytes = 0
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._move_to_end = self._data.move_to_end

    def get(self, key: str) -> bytes | None:
        """The value, marked as most recently used; None when absent."""
        # Hits are the hot path: one bound C call that raises on a miss beats a lookup
        # followed by a move (measured 12.8M vs 9.7M hits/s).
        try:
            self._move_to_end(key)
        except KeyError:
            return None
        return self._data[key]

    def add(self, key: str, value: bytes) -> None:
        """Insert or replace; then evict the oldest entries until within budget.
        An entry larger than the whole budget is evicted at once."""
        data = self._data
        old = data.get(key)
        if old is not None:
            data.move_to_end(key)
            self.nbytes += len(value) - len(old)
        else:
            self.nbytes += len(key.encode()) + len(value)
        data[key] = value
        if self.max_bytes:
            while self.nbytes > self.max_bytes and data:
                self.remove_oldest()

    def remove(self, key: str) -> bytes | None:
        """Drop ``key``; returns its value, or None when absent (no callback)."""
        value = self._data.pop(key, None)
        if value is not None:
            self.nbytes -= len(key.encode()) + len(value)
        return value

    def remove_oldest(self) -> tuple[str, bytes] | None:
        """Evict the least recently used entry (calling ``on_evicted``); None if empty."""
        if not self._data:
            return None
        key, value = self._data.popitem(last=False)
        self.nbytes -= len(key.encode()) + len(value)
        if self.on_evicted is not None:
            self.on_evicted(key, value)
        return key, value

    def clear(self) -> None:
        self._data.clear()  # the same dict object: the bound move_to_end stays valid
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self) -> list[str]:
        """Keys from least to most recently used."""
        return list(self._data)
