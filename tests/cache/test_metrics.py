"""The cache's metrics (issue 20): a known workload on a group, then the process's
scrape parsed with ``prometheus_client``'s parser — every counter exactly what the
workload did, bytes and items per cache."""

from __future__ import annotations

import pytest

from geetrio.cache import new_group
from tests.helpers import scraped


async def test_a_groups_counters_and_sizes_are_scraped() -> None:
    loaded: list[str] = []

    async def load(key: str) -> bytes:
        loaded.append(key)
        if key == "bad":
            raise KeyError(key)
        return key.encode() * 10  # 10 bytes a letter

    group = new_group("metrics-test", 25, load)  # room for two entries of 11 bytes
    for key in ("a", "a", "a", "b", "c"):  # c evicts a
        await group.get(key)
    with pytest.raises(KeyError):
        await group.get("bad")
    group.remove_local("b")
    found = scraped("group", "metrics-test")
    expected = {
        "gets": 6,
        "hits": 2,
        "loads": 4,
        "loads_deduped": 4,
        "local_loads": 3,
        "local_errors": 1,
        "peer_loads": 0,
        "peer_errors": 0,
        "evictions": 1,
        "removals": 1,
    }
    for event, value in expected.items():
        assert found[(f"geetrio_cache_{event}_total", (("node", ""),))] == value, (event, found)
    main, hot = (("cache", "main"), ("node", "")), (("cache", "hot"), ("node", ""))
    assert found[("geetrio_cache_bytes", main)] == 11  # c alone: key and value
    assert found[("geetrio_cache_items", main)] == 1
    assert found[("geetrio_cache_bytes", hot)] == 0
    assert loaded == ["a", "b", "c", "bad"]
