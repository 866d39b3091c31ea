"""``Engine.ping()`` (readiness checks, issue 20) on both dialects, and the PostgreSQL
pool's gauges: connections in use while a statement runs, idle after."""

from __future__ import annotations

import sqlite3

import pytest
import trio
import trio.testing

from geetrio import orm
from tests.helpers import scraped
from tests.orm.test_hooks_transactions import LONG_QUERY


async def test_ping_answers_on_both_dialects(engine: orm.Engine) -> None:
    await engine.ping()
    await engine.ping()  # the engine stays usable
    assert await engine.new_session().raw("SELECT 2").query_row() == (2,)


async def test_ping_of_a_closed_engine_says_so(database: tuple[str, str]) -> None:
    engine = await orm.Engine.open(*database)
    await engine.close()
    with pytest.raises(orm.ORMError, match="closed"):
        await engine.ping()


async def test_ping_does_not_answer_while_another_process_holds_the_lock(
    sqlite_engine: orm.Engine,
) -> None:
    other = sqlite3.connect(sqlite_engine.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # what another process writing for long does
        with trio.move_on_after(0.5) as waited:
            await sqlite_engine.ping()
        assert waited.cancelled_caught
        other.execute("COMMIT")
        await sqlite_engine.ping()
    finally:
        other.close()


async def test_pool_gauges_show_connections_in_use(postgres_url: str) -> None:
    async with orm.open("postgresql", postgres_url, pool_size=3) as engine:
        database = engine.path

        def gauges() -> dict[str, float]:
            found = scraped("database", database)
            return {
                dict(labels).get("state", "max"): value
                for (name, labels), value in found.items()
                if name.startswith("geetrio_orm_pool_")
            }

        assert gauges() == {"in_use": 0, "idle": 1, "max": 3}
        running = trio.Event()
        async with trio.open_nursery() as nursery:

            async def hold() -> None:
                running.set()
                await engine.new_session().raw(LONG_QUERY).query_row()

            nursery.start_soon(hold)
            await running.wait()
            await trio.testing.wait_all_tasks_blocked()  # on the statement's worker
            assert gauges() == {"in_use": 1, "idle": 0, "max": 3}
            nursery.cancel_scope.cancel()
        assert gauges() == {"in_use": 0, "idle": 1, "max": 3}
    assert gauges() == {}  # a closed pool is not reported
