"""Hooks, transactions (commit, rollback on error and on cancellation, savepoints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import trio
import trio.testing

from geetrio import orm
from tests.orm.conftest import User


@dataclass
class Account:
    calls: ClassVar[list[str]] = []
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    password: str = ""

    def before_insert(self, session: orm.Session) -> None:
        Account.calls.append(f"before_insert {self.id}")
        self.password = "******"  # stored as changed

    async def after_insert(self, session: orm.Session) -> None:
        Account.calls.append(f"after_insert {self.id}")

    def after_query(self, session: orm.Session) -> None:
        Account.calls.append(f"after_query {self.id}")

    @classmethod
    async def before_query(cls, session: orm.Session) -> None:
        cls.calls.append("before_query")

    @classmethod
    def before_update(cls, session: orm.Session) -> None:
        cls.calls.append("before_update")

    @classmethod
    def after_update(cls, session: orm.Session) -> None:
        cls.calls.append("after_update")

    @classmethod
    def before_delete(cls, session: orm.Session) -> None:
        cls.calls.append("before_delete")

    @classmethod
    async def after_delete(cls, session: orm.Session) -> None:
        cls.calls.append("after_delete")


async def test_hooks_run_in_order_sync_and_async(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Account).create_table()
    Account.calls.clear()
    await s.insert(Account(1, "secret"), Account(2, "hunter2"))
    found = await s.model(Account).order_by("id").find()
    await s.model(Account).where("id = ?", 1).update({"password": "x"})
    await s.model(Account).where("id = ?", 2).delete()
    assert Account.calls == [
        "before_insert 1",
        "before_insert 2",
        "after_insert 1",
        "after_insert 2",
        "before_query",
        "after_query 1",
        "after_query 2",
        "before_update",
        "after_update",
        "before_delete",
        "after_delete",
    ]
    assert [a.password for a in found] == ["******", "******"]  # before_insert's change stored


async def test_commit(engine: orm.Engine) -> None:
    async def work(s: orm.Session) -> int:
        await s.insert(User("Tom", 18))
        await s.insert(User("Sam", 25))
        return await s.model(User).count()

    assert await engine.transaction(work) == 2
    assert await engine.new_session().model(User).count() == 2


async def test_rollback_on_exception_reraises_it_unchanged(engine: orm.Engine) -> None:
    boom = RuntimeError("boom")

    async def work(s: orm.Session) -> None:
        await s.insert(User("Tom", 18))
        raise boom

    with pytest.raises(RuntimeError) as info:
        await engine.transaction(work)
    assert info.value is boom
    assert await engine.new_session().model(User).count() == 0


async def test_rollback_on_cancellation(engine: orm.Engine) -> None:
    inserted = trio.Event()

    async def work(s: orm.Session) -> None:
        await s.insert(User("Tom", 18))
        inserted.set()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(engine.transaction, work)
        await inserted.wait()
        nursery.cancel_scope.cancel()
    assert await engine.new_session().model(User).count() == 0  # rolled back
    assert await engine.transaction(lambda s: s.model(User).count()) == 0  # still usable


async def test_nested_transaction_uses_a_savepoint(engine: orm.Engine) -> None:
    async def inner_fails(s: orm.Session) -> None:
        await s.insert(User("Inner", 2))
        raise KeyError("inner")

    async def outer(s: orm.Session) -> list[str]:
        await s.insert(User("Outer", 1))
        with pytest.raises(KeyError):
            await engine.transaction(inner_fails)
        await engine.transaction(lambda s2: s2.insert(User("Inner2", 3)))
        return [u.name for u in await s.model(User).order_by("age").find()]

    assert await engine.transaction(outer) == ["Outer", "Inner2"]
    assert await engine.new_session().model(User).count() == 2


async def test_a_transaction_is_isolated_from_other_tasks(engine: orm.Engine) -> None:
    order: list[object] = []
    in_transaction = trio.Event()
    other_asking = trio.Event()

    async def work(s: orm.Session) -> None:
        await s.insert(User("Tom", 18))
        in_transaction.set()
        await other_asking.wait()
        await trio.testing.wait_all_tasks_blocked()  # the other task's count is asked
        await s.insert(User("Sam", 25))

    async def transaction() -> None:
        await engine.transaction(work)
        order.append("committed")  # no checkpoint between the lock's release and here

    async def other() -> None:
        await in_transaction.wait()
        other_asking.set()
        order.append(("counted", await engine.new_session().model(User).count()))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(transaction)
        nursery.start_soon(other)
    if engine.dialect.name == "sqlite3":
        # one connection: the other task waited for the commit and saw it whole
        assert order == ["committed", ("counted", 2)]
    else:
        # a pool: the other task ran beside it (read committed), seeing none of it or
        # all of it, never half
        assert sorted(map(str, order)) == sorted(map(str, ["committed", order[-1]]))
        assert ("counted", 1) not in order and len(order) == 2


async def test_tasks_started_inside_a_transaction_join_it(engine: orm.Engine) -> None:
    async def work(s: orm.Session) -> None:
        async with trio.open_nursery() as nursery:
            for i in range(5):
                nursery.start_soon(s.insert, User(f"child{i}", i))
        raise RuntimeError("roll everything back")

    with pytest.raises(RuntimeError):
        await engine.transaction(work)
    assert await engine.new_session().model(User).count() == 0


async def test_fifty_concurrent_tasks_through_one_engine(engine: orm.Engine) -> None:
    counts: list[int] = []

    async def client(i: int) -> None:
        s = engine.new_session()
        await s.insert(User(f"user{i}", i))
        assert await s.where("name = ?", f"user{i}").first(User) == User(f"user{i}", i)
        counts.append(await s.model(User).count())
        if i % 5 == 0:
            await engine.transaction(lambda t: t.insert(User(f"tx{i}", i)))

    async with trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(client, i)
    assert await engine.new_session().model(User).count() == 60
    assert len(counts) == 50


LONG_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
    "SELECT count(*) FROM n"
)


@pytest.mark.parametrize("in_transaction", [False, True])
async def test_a_long_query_stops_when_cancelled(engine: orm.Engine, in_transaction: bool) -> None:
    s = engine.new_session()

    async def long_query(session: orm.Session) -> Any:
        return await session.raw(LONG_QUERY).query_row()

    with trio.fail_after(5):  # a watchdog: uninterrupted, the query runs for minutes
        with trio.move_on_after(0.2) as scope:
            if in_transaction:
                await engine.transaction(long_query)
            else:
                await long_query(s)
    assert scope.cancelled_caught
    assert await s.raw("SELECT 42").query_row() == (42,)  # the connection still works
    assert await engine.transaction(lambda t: t.raw("SELECT 43").query_row()) == (43,)
