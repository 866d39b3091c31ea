"""``Query.iterate``: every row in bounded batches on both dialects — keyset batches by
the primary key, LIMIT/OFFSET ones under an ``order_by`` — with memory that stays flat
over 200,000 rows, ``limit``/``offset``/``where`` honoured, and a cancelled iteration
leaving the engine usable."""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass, field

import pytest
import trio

from geetrio import orm
from tests.orm.conftest import User

ROWS = 200_000


@dataclass
class Event:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    kind: str = ""
    payload: str = ""


async def events(engine: orm.Engine, count: int) -> orm.Session:
    s = engine.new_session()
    await s.model(Event).create_table()
    payload = "x" * 100
    for start in range(0, count, 50_000):
        await s.insert(
            *(
                Event(i, "odd" if i % 2 else "even", payload)
                for i in range(start, min(count, start + 50_000))
            )
        )
    return s


async def test_two_hundred_thousand_rows_in_flat_memory(engine: orm.Engine) -> None:
    s = await events(engine, ROWS)
    gc.collect()
    tracemalloc.start()
    try:
        seen, last = 0, -1
        with orm.count_queries() as counted:
            async for event in s.model(Event).iterate(batch=5000):
                assert event.id == last + 1  # in key order, none missed or repeated
                last = event.id
                seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == ROWS
    assert counted.count == ROWS // 5000 + 1  # the last batch comes back empty
    # 200,000 objects with 100-byte payloads would be ~50 MB held at once
    assert peak < 15 * 1024 * 1024, peak


async def test_where_order_limit_and_offset_apply(engine: orm.Engine) -> None:
    s = await events(engine, 1000)
    odd = s.model(Event).where("kind = ?", "odd")
    assert [e.id async for e in odd.iterate(batch=7)] == list(range(1, 1000, 2))
    window = odd.offset(10).limit(25)
    assert [e.id async for e in window.iterate(batch=4)] == list(range(21, 71, 2))
    newest = s.model(Event).order_by("id DESC").limit(12)
    assert [e.id async for e in newest.iterate(batch=5)] == list(range(999, 987, -1))
    paged = s.model(Event).order_by("id DESC").offset(990)
    assert [e.id async for e in paged.iterate(batch=3)] == list(range(9, -1, -1))
    assert [u async for u in s.model(User).iterate()] == []  # no primary key: OFFSET too
    with pytest.raises(ValueError, match="positive batch"):
        s.model(Event).iterate(batch=0)


async def test_a_cancelled_iteration_leaves_the_engine_usable(engine: orm.Engine) -> None:
    s = await events(engine, 5000)
    seen = 0
    with trio.CancelScope() as scope:
        async for _ in s.model(Event).iterate(batch=1000):
            seen += 1
            if seen == 1500:
                scope.cancel()
    assert scope.cancelled_caught and seen == 1500  # cancelled at the next row
    assert await s.model(Event).count() == 5000
    broken_off = 0
    async for _ in s.model(Event).iterate(batch=100):
        broken_off += 1
        if broken_off == 150:
            break  # nothing held: nothing to clean up
    assert await s.model(Event).where("id < ?", 10).count() == 10
