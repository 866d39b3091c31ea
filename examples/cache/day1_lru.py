"""Day 1 — LRU eviction under a byte budget.

python examples/cache/day1_lru.py
"""

from geetrio.cache import LRUCache


def main() -> None:
    evicted: list[str] = []
    lru = LRUCache(max_bytes=20, on_evicted=lambda key, value: evicted.append(key))
    lru.add("Tom", b"630")  # 3 + 3 = 6 bytes
    lru.add("Jack", b"589")  # 7 bytes
    lru.get("Tom")  # Tom is now the most recently used
    lru.add("Sam", b"567")  # 6 bytes: 19 in all, fits
    lru.add("Alice", b"701")  # 8 more: over 20, so the oldest (Jack) goes
    print(f"keys (oldest first): {lru.keys()}")
    print(f"evicted: {evicted}, {len(lru)} entries, {lru.nbytes} bytes")


if __name__ == "__main__":
    main()
