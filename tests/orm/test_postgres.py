"""What only the PostgreSQL dialect has: a pool, cancellation on the server, its
aborted-transaction rule, ``?`` translated only outside literals, its URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import psycopg
import pytest
import trio
import trio.testing

from geetrio import orm
from tests.orm.conftest import User


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[orm.Engine]:
    async with orm.open(
        "postgresql", postgres_url + "&application_name=geetrio-test", pool_size=3
    ) as engine:
        await engine.new_session().model(User).create_table()
        yield engine


def server_sessions(admin_url: str, query_like: str = "%") -> list[tuple[str, str]]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT state, query FROM pg_stat_activity "
            "WHERE application_name = 'geetrio-test' AND query LIKE %s",
            (query_like,),
        ).fetchall()
    return [(state, query) for state, query in rows]


async def test_a_cancelled_statement_is_cancelled_on_the_server(
    pg: orm.Engine, postgres_server: str
) -> None:
    with trio.fail_after(10), trio.move_on_after(0.3) as scope:
        await pg.new_session().raw("SELECT pg_sleep(60)").query_row()
    assert scope.cancelled_caught
    running = [
        q for state, q in server_sessions(postgres_server, "SELECT pg_sleep%") if state == "active"
    ]
    assert running == []  # not only abandoned: the server stopped it
    assert await pg.new_session().raw("SELECT 1").query_row() == (1,)


async def test_the_pool_bounds_the_connections(pg: orm.Engine, postgres_server: str) -> None:
    """pool_size=3: six statements blocked on the server hold three connections;
    the other three wait for one, and reuse it."""
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(42)")
        async with trio.open_nursery() as nursery:
            for _ in range(6):
                nursery.start_soon(
                    pg.new_session().raw("SELECT pg_advisory_xact_lock(42)").query_row
                )
            await trio.testing.wait_all_tasks_blocked()
            waiting = pg._db._slots.statistics().tasks_waiting  # type: ignore[attr-defined]
            assert waiting == 3
            admin.execute("SELECT pg_advisory_unlock(42)")
    assert len(server_sessions(postgres_server)) == 3


async def test_a_transaction_holds_one_connection_and_others_do_not_see_it(pg: orm.Engine) -> None:
    seen: list[int] = []
    inserted, counted = trio.Event(), trio.Event()

    async def work(s: orm.Session) -> None:
        await s.insert(User("Tom", 1))
        assert await s.model(User).count() == 1  # its own connection sees its row
        inserted.set()
        await counted.wait()

    async def other() -> None:  # started outside the transaction: not part of it
        await inserted.wait()
        seen.append(await pg.new_session().model(User).count())
        counted.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(other)
        nursery.start_soon(pg.transaction, work)
    assert seen == [0] and await pg.new_session().model(User).count() == 1


async def test_after_an_error_the_transaction_is_aborted_unless_a_savepoint_caught_it(
    pg: orm.Engine,
) -> None:
    await pg.new_session().insert(User("Tom", 1))

    async def careless(s: orm.Session) -> None:
        with pytest.raises(orm.IntegrityError):
            await s.insert(User("Tom", 2))
        await s.insert(User("Sam", 3))  # PostgreSQL: the transaction is aborted

    with pytest.raises(orm.DatabaseError, match="current transaction is aborted"):
        await pg.transaction(careless)

    async def careful(s: orm.Session) -> None:
        with pytest.raises(orm.IntegrityError):
            await pg.transaction(lambda inner: inner.insert(User("Tom", 2)))  # a savepoint
        await s.insert(User("Sam", 3))

    await pg.transaction(careful)
    assert [u.name for u in await pg.new_session().model(User).order_by("name").find()] == [
        "Sam",
        "Tom",
    ]


async def test_open_failures_and_the_url_shown(postgres_server: str) -> None:
    with trio.fail_after(15), pytest.raises(orm.DatabaseError):
        await orm.Engine.open("postgresql", "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(ValueError, match="pool_size"):
        await orm.Engine.open("postgresql", postgres_server, pool_size=0)
    parts = urlsplit(postgres_server)
    with_password = f"postgresql://postgres:s3cret@{parts.hostname}:{parts.port}/postgres"
    async with orm.open("postgresql", with_password) as engine:  # trust: the password is unused
        assert "s3cret" not in engine.path and engine.path.startswith("postgresql://postgres@")


async def test_a_connection_left_inside_a_transaction_is_not_reused(postgres_url: str) -> None:
    """A raw BEGIN (or a rollback that was itself interrupted) leaves a connection in a
    transaction: it is closed, not handed to the next statement, whose write would
    otherwise sit in that transaction, invisible and uncommitted."""
    async with (
        orm.open("postgresql", postgres_url, pool_size=1) as engine,
        orm.open("postgresql", postgres_url) as other,
    ):
        await engine.new_session().model(User).create_table()
        await engine.new_session().raw("BEGIN").exec()
        await engine.new_session().insert(User("Tom", 1))
        assert await other.new_session().model(User).count() == 1


async def test_open_is_cancellable_while_the_server_does_not_answer(nursery: trio.Nursery) -> None:
    """A server that accepts and never speaks: the connect (bounded at 10 s by libpq)
    cannot be interrupted, but the caller leaves at once when cancelled."""

    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    listeners = await nursery.start(trio.serve_tcp, silent, 0)
    port = listeners[0].socket.getsockname()[1]
    with trio.fail_after(5), trio.move_on_after(0.2) as scope:  # fail_after: far below 10 s
        await orm.Engine.open("postgresql", f"postgresql://postgres@127.0.0.1:{port}/postgres")
    assert scope.cancelled_caught
