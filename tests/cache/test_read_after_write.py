"""A read that starts after a write must see it: once ``group.remove(key)`` returned, no
get that starts later returns a value loaded before it — on this node and on every node
the removal reached, hot caches included (Go's singleflight has ``Forget`` for this)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.lowlevel
import trio.testing

from geetrio import orm
from geetrio.cache import Group, HTTPPool
from geetrio.cache._singleflight import SingleFlight
from geetrio.web import Engine


class Gated:
    """A slow database whose loads return the value at the time they *read* it, and
    wait on a gate afterwards: the interleavings are chosen by the test."""

    def __init__(self) -> None:
        self.value = b"old"
        self.gates: list[trio.Event] = []
        self.started = trio.Event()

    async def __call__(self, key: str) -> bytes:
        value = self.value
        gate = trio.Event()
        self.gates.append(gate)
        self.started.set()
        await gate.wait()
        return value


async def test_a_get_after_remove_never_joins_the_older_flight() -> None:
    db = Gated()
    group = Group("scores", 1 << 10, db)
    got: dict[str, bytes] = {}

    async def get(name: str) -> None:
        got[name] = await group.get("Tom")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(get, "before")  # its load reads "old"
        await db.started.wait()
        db.value = b"new"  # the write...
        await group.remove("Tom")  # ...acknowledged
        nursery.start_soon(get, "after")  # starts after the write: must see "new"
        await trio.testing.wait_all_tasks_blocked()
        assert len(db.gates) == 2  # a flight of its own, not the one in the air
        db.gates[0].set()  # the old load finishes last but one...
        await trio.testing.wait_all_tasks_blocked()
        db.gates[1].set()
    assert got == {"before": b"old", "after": b"new"}
    assert await group.get("Tom") == b"new"  # the old load did not cache "old"


async def test_an_old_load_finishing_after_a_new_one_does_not_overwrite_it() -> None:
    db = Gated()
    group = Group("scores", 1 << 10, db)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(group.get, "Tom")
        await db.started.wait()
        db.value = b"new"
        await group.remove("Tom")
        nursery.start_soon(group.get, "Tom")
        await trio.testing.wait_all_tasks_blocked()
        db.gates[1].set()  # the new load stores "new"
        await trio.testing.wait_all_tasks_blocked()
        db.gates[0].set()  # the old one ends after it: it must not store "old"
    db.value = b"newest, never loaded"
    assert await group.get("Tom") == b"new"


async def test_forget_detaches_the_flight() -> None:
    sf: SingleFlight[str] = SingleFlight()
    release = trio.Event()
    results: list[str] = []

    async def slow() -> str:
        await release.wait()
        return "first"

    async def fast() -> str:
        return "second"

    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: _append(results, sf.do("k", slow)))
        await trio.testing.wait_all_tasks_blocked()
        sf.forget("k")
        assert not sf.in_flight("k")
        results.append(await sf.do("k", fast))
        release.set()
    assert results == ["second", "first"]


async def _append(results: list[str], call: object) -> None:
    results.append(await call)  # type: ignore[misc]


# ------------------------------------------------------------------ as users see it


@dataclass
class Score:
    __tablename__ = "scores"
    name: str
    score: int


@pytest.fixture
async def cluster(
    tmp_path: Path, nursery: trio.Nursery
) -> AsyncIterator[tuple[orm.Engine, list[Group]]]:
    """Three nodes over real sockets, each with its group reading one sqlite file."""
    async with orm.open("sqlite3", tmp_path / "scores.db") as engine, AsyncExitStack() as stack:
        await engine.new_session().model(Score).create_table()
        await engine.new_session().insert(*(Score(f"k{i}", 0) for i in range(4)))
        apps = [Engine() for _ in range(3)]
        ports = [await nursery.start(partial(app.serve, "127.0.0.1", 0)) for app in apps]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        groups: list[Group] = []

        async def load(key: str) -> bytes:
            await trio.sleep(random.random() * 0.002)  # loads overlap writes
            row = await engine.new_session().where("name = ?", key).first(Score)
            return str(row.score).encode()

        for i, (url, app) in enumerate(zip(urls, apps, strict=True)):
            pool = await stack.enter_async_context(
                HTTPPool(url, groups=lambda n, i=i: groups[i])  # type: ignore[misc]
            )
            group = Group("scores", 1 << 20, load, hot_probability=0.5)
            pool.set(*urls)
            group.register_peers(pool)
            pool.mount(app)
            groups.append(group)
        yield engine, groups


async def test_concurrent_writes_and_reads_see_every_acknowledged_write(
    cluster: tuple[orm.Engine, list[Group]],
) -> None:
    """A writer per key sets growing scores (write the row, then remove the key from the
    cluster, through either node); readers on both nodes check each value against the
    last write acknowledged before their read began."""
    engine, groups = cluster
    acknowledged = {f"k{i}": 0 for i in range(4)}
    stale: list[tuple[str, int, int]] = []
    reads = 0
    writing = True

    async def writer(key: str) -> None:
        for score in range(1, 151):
            await engine.new_session().model(Score).where("name = ?", key).update({"score": score})
            await groups[score % 3].remove(key)
            acknowledged[key] = score

    async def reader(group: Group) -> None:
        nonlocal reads
        while writing:
            key = random.choice(list(acknowledged))
            floor = acknowledged[key]
            value = int(await group.get(key))
            reads += 1
            if value < floor:
                stale.append((key, value, floor))
            await trio.lowlevel.checkpoint()  # a cache hit returns without one

    async with trio.open_nursery() as readers:
        for group in groups * 2:
            readers.start_soon(reader, group)
        async with trio.open_nursery() as writers:
            for key in acknowledged:
                writers.start_soon(writer, key)
        writing = False
    assert reads > 200
    assert stale == []
    for key, score in acknowledged.items():  # and nothing stale stays behind
        assert [int(await g.get(key)) for g in groups] == [score] * 3


class OrderedPeer:
    def __init__(self, name: str, told: list[str], value: bytes = b"old") -> None:
        self.name, self.told, self.value = name, told, value

    async def get(self, group: str, key: str) -> bytes:
        return self.value

    async def remove(self, group: str, key: str) -> None:
        self.told.append(self.name)
        await trio.lowlevel.checkpoint()


class Picker:
    def __init__(self, owner: OrderedPeer, others: list[OrderedPeer]) -> None:
        self.owner, self.others = owner, others

    def pick_peer(self, key: str) -> OrderedPeer:
        return self.owner

    def peers(self) -> list[OrderedPeer]:
        return [*self.others, self.owner]


async def test_remove_tells_the_owner_first_and_clears_here_again() -> None:
    """The owner first: afterwards any node refilling its hot cache gets the new value.
    Here again at the end: a get here while the owner still held the old value may have
    put it in this node's hot cache."""
    told: list[str] = []
    owner = OrderedPeer("owner", told)
    group = Group("scores", 1 << 10, Gated(), hot_probability=1.0)
    group.register_peers(Picker(owner, [OrderedPeer("b", told), OrderedPeer("c", told)]))
    original = owner.remove

    async def remove_then_refill(g: str, key: str) -> None:
        await group.get(key)  # a get here while the owner still answers "old"
        assert group.stats["hot_items"] == 1
        owner.value = b"new"
        await original(g, key)

    owner.remove = remove_then_refill  # type: ignore[method-assign]
    await group.remove("Tom")
    assert told[0] == "owner" and sorted(told[1:]) == ["b", "c"]
    assert await group.get("Tom") == b"new"
