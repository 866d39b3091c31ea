"""Day 4 — consistent hashing: which node owns which key, and what moves when one leaves.

python examples/cache/day4_consistent_hash.py
"""

from geetrio.cache import HashRing

NODES = ["http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"]
KEYS = ["Tom", "Jack", "Sam", "Alice", "Bob", "Carol"]


def main() -> None:
    ring = HashRing(50)  # crc32, 50 replicas: the same placement as Go GeeCache
    ring.add(*NODES)
    before = {key: ring.get(key) for key in KEYS}
    for key, node in before.items():
        print(f"{key:6} -> {node}")
    ring.remove(NODES[2])
    moved = [key for key in KEYS if ring.get(key) != before[key]]
    print(f"after removing {NODES[2]}: moved {moved} (only its own keys move)")


if __name__ == "__main__":
    main()
