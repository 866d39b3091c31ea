from __future__ import annotations

import pytest

from geetrio.cache import LRUCache


def test_get_add_and_sizes() -> None:
    lru = LRUCache()
    lru.add("key1", b"1234")
    assert lru.get("key1") == b"1234"
    assert lru.get("key2") is None
    assert (len(lru), lru.nbytes) == (1, 8)
    lru.add("key1", b"123456")  # replace: the size follows the new value
    assert (len(lru), lru.nbytes) == (1, 10)


def test_sizes_count_utf8_bytes_of_the_key() -> None:
    lru = LRUCache()
    lru.add("é", b"x")  # 2 bytes of key + 1 of value
    assert lru.nbytes == 3


def test_remove_oldest_like_geecache() -> None:
    k1, k2, k3 = "key1", "key2", "k3"
    v1, v2, v3 = b"value1", b"value2", b"v3"
    lru = LRUCache(max_bytes=len(k1 + k2) + len(v1 + v2))
    lru.add(k1, v1)
    lru.add(k2, v2)
    lru.add(k3, v3)
    assert lru.get(k1) is None and len(lru) == 2


def test_eviction_order_follows_use_and_calls_back() -> None:
    evicted: list[tuple[str, bytes]] = []
    lru = LRUCache(max_bytes=10, on_evicted=lambda k, v: evicted.append((k, v)))
    lru.add("key1", b"123456")
    lru.add("k2", b"k2")
    lru.add("k3", b"k3")  # 10 + 4 > 10: key1 (oldest) goes
    assert evicted == [("key1", b"123456")]
    lru.get("k2")  # k2 becomes the most recent
    lru.add("k4", b"k4")
    assert evicted[-1] == ("k3", b"k3")
    assert lru.keys() == ["k2", "k4"]


def test_an_entry_bigger_than_the_budget_does_not_stay() -> None:
    lru = LRUCache(max_bytes=5)
    lru.add("k", b"way too big")
    assert len(lru) == 0 and lru.nbytes == 0


def test_remove_and_remove_oldest() -> None:
    evicted: list[str] = []
    lru = LRUCache(on_evicted=lambda k, v: evicted.append(k))
    lru.add("a", b"1")
    lru.add("b", b"2")
    assert lru.remove("a") == b"1"
    assert lru.remove("a") is None
    assert evicted == []  # remove is not an eviction
    assert lru.remove_oldest() == ("b", b"2")
    assert evicted == ["b"]
    assert lru.remove_oldest() is None
    assert (len(lru), lru.nbytes) == (0, 0)


def test_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        LRUCache(max_bytes=-1)
