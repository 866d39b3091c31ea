"""Group behaviour with injected fake peers: routing, failures, fallback, stats."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from geetrio.cache import Group, PeerError, get_group, new_group

DB = {"Tom": b"630", "Jack": b"589", "Sam": b"567"}


class Counting:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def __call__(self, key: str) -> bytes:
        self.calls[key] = self.calls.get(key, 0) + 1
        await trio.sleep(0.01)
        if key not in DB:
            raise KeyError(f"{key} not exist")
        return DB[key]


class FakePeer:
    def __init__(
        self, name: str, *, fail: Exception | None = None, values: dict[str, bytes] | None = None
    ) -> None:
        self.name = name
        self.fail = fail
        self.values = values or {}
        self.gets: list[str] = []
        self.removes: list[str] = []

    async def get(self, group: str, key: str) -> bytes:
        self.gets.append(key)
        await trio.sleep(0.01)
        if self.fail is not None:
            raise self.fail
        return self.values.get(key, f"{self.name}:{key}".encode())

    async def remove(self, group: str, key: str) -> None:
        self.removes.append(key)
        if self.fail is not None:
            raise self.fail


class FakePicker:
    """Keys starting with "remote" belong to the peer; the rest to us."""

    def __init__(self, peer: FakePeer, others: list[FakePeer] | None = None) -> None:
        self.peer = peer
        self.others = others or []

    def pick_peer(self, key: str) -> FakePeer | None:
        return self.peer if key.startswith("remote") else None

    def peers(self) -> list[FakePeer]:
        return [self.peer, *self.others]


async def test_local_loads_are_cached_and_counted(autojump_clock: trio.testing.MockClock) -> None:
    loader = Counting()
    group = Group("scores", 2 << 10, loader)
    for _ in range(3):
        for key, value in DB.items():
            assert await group.get(key) == value
    assert loader.calls == {"Tom": 1, "Jack": 1, "Sam": 1}
    stats = group.stats
    assert (stats["gets"], stats["hits"], stats["loads"], stats["local_loads"]) == (9, 6, 3, 3)


async def test_errors_reach_the_caller_unchanged(autojump_clock: trio.testing.MockClock) -> None:
    group = Group("scores", 2 << 10, Counting())
    with pytest.raises(KeyError, match="unknown not exist"):
        await group.get("unknown")
    with pytest.raises(ValueError):
        await group.get("")
    assert group.stats["local_errors"] == 1


async def test_sync_getters_run_in_a_thread() -> None:
    import threading

    main = threading.get_ident()
    seen: list[int] = []

    def blocking(key: str) -> bytes:
        seen.append(threading.get_ident())
        return key.encode()

    group = Group("sync", 1024, blocking)
    assert await group.get("abc") == b"abc"
    assert seen and seen[0] != main


async def test_a_getter_returning_the_wrong_type_is_a_clear_error() -> None:
    async def bad(key: str) -> bytes:
        return 42  # type: ignore[return-value]

    with pytest.raises(TypeError, match="returned int, not bytes"):
        await Group("bad", 1024, bad).get("k")


async def test_concurrent_misses_load_once(autojump_clock: trio.testing.MockClock) -> None:
    loader = Counting()
    group = Group("scores", 2 << 10, loader)
    async with trio.open_nursery() as nursery:
        for _ in range(100):
            nursery.start_soon(group.get, "Tom")
    assert loader.calls == {"Tom": 1}
    assert group.stats["loads"] == 100 and group.stats["loads_deduped"] == 1


async def test_peer_owned_keys_come_from_the_peer(autojump_clock: trio.testing.MockClock) -> None:
    loader = Counting()
    peer = FakePeer("p1")
    group = Group("scores", 2 << 10, loader, hot_probability=0.0)
    group.register_peers(FakePicker(peer))
    assert await group.get("remote-1") == b"p1:remote-1"
    assert await group.get("Tom") == b"630"
    assert peer.gets == ["remote-1"] and loader.calls == {"Tom": 1}
    assert group.stats["peer_loads"] == 1


async def test_peer_failure_falls_back_to_a_local_load(
    autojump_clock: trio.testing.MockClock,
) -> None:
    loader = Counting()
    DB["remote-x"] = b"local copy"
    try:
        group = Group("scores", 2 << 10, loader)
        group.register_peers(FakePicker(FakePeer("down", fail=PeerError("refused"))))
        assert await group.get("remote-x") == b"local copy"
        assert group.stats["peer_errors"] == 1 and group.stats["local_loads"] == 1
        assert await group.get("remote-x") == b"local copy"  # cached locally now
        assert loader.calls == {"remote-x": 1}
    finally:
        del DB["remote-x"]


async def test_hot_cache_keeps_popular_peer_keys(autojump_clock: trio.testing.MockClock) -> None:
    peer = FakePeer("p1")
    group = Group("scores", 2 << 10, Counting(), hot_probability=1.0)
    group.register_peers(FakePicker(peer))
    for _ in range(5):
        assert await group.get("remote-hot") == b"p1:remote-hot"
    assert peer.gets == ["remote-hot"]
    assert group.stats["hot_items"] == 1 and group.stats["hits"] == 4


async def test_hot_cache_population_is_probabilistic(
    autojump_clock: trio.testing.MockClock,
) -> None:
    draws = iter([0.5, 0.05])  # first fetch: not kept (0.5 >= 0.1), second: kept
    peer = FakePeer("p1")
    group = Group("scores", 2 << 10, Counting(), rng=lambda: next(draws))
    group.register_peers(FakePicker(peer))
    await group.get("remote-a")
    await group.get("remote-a")
    await group.get("remote-a")
    assert len(peer.gets) == 2


async def test_requests_from_peers_are_never_forwarded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    loader = Counting()
    DB["remote-loop"] = b"here"
    try:
        peer = FakePeer("p1")
        group = Group("scores", 2 << 10, loader)
        group.register_peers(FakePicker(peer))  # the ring says the peer owns it...
        assert await group.get_for_peer("remote-loop") == b"here"  # ...but a peer asked us
        assert peer.gets == [] and loader.calls == {"remote-loop": 1}
    finally:
        del DB["remote-loop"]


async def test_a_peer_request_does_not_wait_on_our_own_forwarding_flight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Nodes A and B disagree on the owner: A forwards k to B while B asks A for k.
    A's answer to B must not wait on A's own flight (that would deadlock)."""
    DB["remote-k"] = b"v"
    try:
        stuck = trio.Event()

        class StuckPeer(FakePeer):
            async def get(self, group: str, key: str) -> bytes:
                await stuck.wait()
                return b"from peer"

        group = Group("scores", 2 << 10, Counting())
        group.register_peers(FakePicker(StuckPeer("b")))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(group.get, "remote-k")  # our flight, waiting on B
            await trio.testing.wait_all_tasks_blocked()
            assert await group.get_for_peer("remote-k") == b"v"  # B's request, served now
            stuck.set()
    finally:
        del DB["remote-k"]


async def test_remove_drops_everywhere_and_tolerates_failing_peers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    owner = FakePeer("owner")
    broken = FakePeer("broken", fail=PeerError("down"))
    loader = Counting()
    group = Group("scores", 2 << 10, loader, hot_probability=1.0)
    group.register_peers(FakePicker(owner, [broken]))
    await group.get("Tom")
    await group.get("remote-1")
    await group.remove("Tom")
    await group.remove("remote-1")
    assert owner.removes == ["Tom", "remote-1"] and broken.removes == ["Tom", "remote-1"]
    assert group.stats["peer_errors"] == 2
    assert group.stats["items"] == 0
    await group.get("Tom")
    assert loader.calls == {"Tom": 2}


async def test_remove_during_a_load_does_not_resurrect_the_old_value(
    autojump_clock: trio.testing.MockClock,
) -> None:
    loader = Counting()
    group = Group("scores", 2 << 10, loader)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(group.get, "Tom")
        await trio.testing.wait_all_tasks_blocked()
        await group.remove("Tom")
    assert group.stats["items"] == 0
    await group.get("Tom")
    assert loader.calls == {"Tom": 2}


async def test_ttl_expires_entries(autojump_clock: trio.testing.MockClock) -> None:
    loader = Counting()
    group = Group("scores", 2 << 10, loader, ttl=10.0)
    await group.get("Tom")
    await trio.sleep(5)
    await group.get("Tom")
    assert loader.calls == {"Tom": 1}
    await trio.sleep(6)
    await group.get("Tom")
    assert loader.calls == {"Tom": 2}


async def test_evictions_are_counted(autojump_clock: trio.testing.MockClock) -> None:
    group = Group("scores", 10, Counting())  # room for one entry
    await group.get("Tom")
    await group.get("Jack")
    assert group.stats["evictions"] == 1 and group.stats["items"] == 1


def test_group_registry_and_validation() -> None:
    async def load(key: str) -> bytes:
        return b""

    first = new_group("registry-test", 1024, load)
    assert get_group("registry-test") is first
    second = new_group("registry-test", 1024, load)
    assert get_group("registry-test") is second  # replaced, as in GeeCache
    assert get_group("never-made") is None
    with pytest.raises(TypeError):
        Group("x", 1024, "not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Group("", 1024, load)
    with pytest.raises(ValueError):
        Group("x", 1024, load, ttl=0)
    group = Group("x", 1024, load)
    group.register_peers(FakePicker(FakePeer("p")))
    with pytest.raises(RuntimeError, match="more than once"):
        group.register_peers(FakePicker(FakePeer("p")))


# ------------------------------------------------------------------ memory budget


class Sized:
    """A loader of ``size``-byte values."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.loads = 0

    async def __call__(self, key: str) -> bytes:
        self.loads += 1
        return b"v" * self.size


async def test_main_and_hot_cache_share_one_budget(autojump_clock: trio.testing.MockClock) -> None:
    budget = 2000
    peer = FakePeer("p", values={f"remote{i}": b"h" * 40 for i in range(200)})
    group = Group("budget", budget, Sized(40), hot_probability=1.0)
    group.register_peers(FakePicker(peer))
    for i in range(200):
        await group.get(f"local{i}")  # main cache
        await group.get(f"remote{i}")  # hot cache
        stats = group.stats
        assert stats["bytes"] <= budget
    main_bytes = stats["bytes"] - group._hot.nbytes
    assert group._hot.nbytes <= main_bytes // 8 + 50  # an eighth, give or take an entry
    assert stats["evictions"] > 0 and len(group._main) > 0


async def test_a_budget_of_zero_caches_nothing() -> None:
    loader = Sized(10)
    group = Group("nothing", 0, loader)
    for _ in range(3):
        assert await group.get("k") == b"v" * 10
    assert loader.loads == 3
    assert group.stats["items"] == 0 and group.stats["bytes"] == 0


async def test_a_tiny_budget_bounds_the_hot_cache_too(
    autojump_clock: trio.testing.MockClock,
) -> None:
    peer = FakePeer("p")
    group = Group("tiny", 7, Sized(1), hot_probability=1.0)
    group.register_peers(FakePicker(peer))
    for i in range(50):
        await group.get(f"remote{i}")  # each about 13 bytes: more than the whole budget
    assert group.stats["bytes"] <= 7 and group.stats["hot_items"] == 0
