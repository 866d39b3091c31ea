"""Transactions at their edges: concurrent nested transactions, tasks that outlive their
transaction, closing while one is open, another process holding the write lock,
migrations next to foreign keys."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
import trio.testing

from geetrio import orm
from tests.orm.conftest import User
from tests.orm.test_hooks_transactions import LONG_QUERY


async def names(engine: orm.Engine) -> list[str]:
    return [u.name for u in await engine.new_session().model(User).order_by("name").find()]


async def test_concurrent_nested_transactions_keep_the_one_that_returned(
    engine: orm.Engine,
) -> None:
    a_inserted = trio.Event()
    b_entering = trio.Event()

    async def a_fails(s: orm.Session) -> None:
        await s.insert(User("A", 1))
        a_inserted.set()
        await b_entering.wait()
        await trio.testing.wait_all_tasks_blocked()  # B is inside transaction() now
        raise KeyError("A rolls back")

    async def run_a() -> None:
        with pytest.raises(KeyError):
            await engine.transaction(a_fails)

    async def run_b() -> None:
        await a_inserted.wait()
        b_entering.set()
        await engine.transaction(lambda s: s.insert(User("B", 2)))

    async def outer(s: orm.Session) -> None:
        await s.insert(User("Outer", 0))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_a)
            nursery.start_soon(run_b)

    await engine.transaction(outer)
    assert await names(engine) == ["B", "Outer"]  # B returned: its row is kept


async def test_a_plain_statement_waits_for_a_sibling_nested_transaction(
    engine: orm.Engine,
) -> None:
    """A statement of the outer transaction issued while a nested one is open would be
    rolled back with it: it waits until the nested one has ended."""
    nested_inserted = trio.Event()

    async def nested_fails(s: orm.Session) -> None:
        await s.insert(User("Nested", 1))
        nested_inserted.set()
        await trio.testing.wait_all_tasks_blocked()  # the sibling's insert is waiting
        raise KeyError("nested rolls back")

    async def run_nested() -> None:
        with pytest.raises(KeyError):
            await engine.transaction(nested_fails)

    async def sibling(s: orm.Session) -> None:
        await nested_inserted.wait()
        await s.insert(User("Sibling", 2))

    async def outer(s: orm.Session) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_nested)
            nursery.start_soon(sibling, s)

    await engine.transaction(outer)
    assert await names(engine) == ["Sibling"]


async def test_a_task_that_outlives_its_transaction_runs_outside_it(engine: orm.Engine) -> None:
    committed = trio.Event()
    late_result: list[int] = []

    async def late(s: orm.Session) -> None:
        await committed.wait()
        with trio.fail_after(5):  # before the fix this waited forever, deaf to it
            late_result.append(await s.insert(User("Late", 2)))

    async with trio.open_nursery() as outer_nursery:

        async def work(s: orm.Session) -> None:
            await s.insert(User("Tom", 1))
            outer_nursery.start_soon(late, s)

        await engine.transaction(work)
        committed.set()
    assert late_result == [1]
    assert await names(engine) == ["Late", "Tom"]


async def test_a_task_that_outlives_a_nested_transaction_joins_the_outer_one(
    engine: orm.Engine,
) -> None:
    nested_done = trio.Event()

    async def late(s: orm.Session) -> None:
        await nested_done.wait()
        await s.insert(User("Late", 2))

    async def outer(s: orm.Session) -> None:
        async with trio.open_nursery() as nursery:

            async def nested(s2: orm.Session) -> None:
                nursery.start_soon(late, s2)

            await engine.transaction(nested)
            nested_done.set()
        raise RuntimeError("the outer transaction rolls back, the late row with it")

    with pytest.raises(RuntimeError):
        await engine.transaction(outer)
    assert await names(engine) == []


async def test_a_stray_task_cancelled_while_waiting_on_its_transaction(engine: orm.Engine) -> None:
    """Every wait stays cancellable: a statement queued behind a nested transaction."""
    nested_open = trio.Event()
    stray_done = trio.Event()
    stray_scope = trio.CancelScope()

    async def stray(s: orm.Session) -> None:
        await nested_open.wait()
        with stray_scope:
            await s.insert(User("Stray", 2))  # waits: the nested transaction is open
        assert stray_scope.cancelled_caught
        stray_done.set()

    async def outer(s: orm.Session) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(stray, s)

            async def nested(s2: orm.Session) -> None:
                nested_open.set()
                await trio.testing.wait_all_tasks_blocked()
                stray_scope.cancel()
                await stray_done.wait()  # the stray task gave up while we were open

            await engine.transaction(nested)

    await engine.transaction(outer)
    assert await names(engine) == []


async def test_close_is_bounded_while_a_transaction_is_open(tmp_path: Path) -> None:
    engine = await orm.Engine.open("sqlite3", tmp_path / "c.db")
    await engine.new_session().model(User).create_table()
    in_transaction = trio.Event()
    may_finish = trio.Event()

    async def work(s: orm.Session) -> None:
        await s.insert(User("Tom", 1))
        in_transaction.set()
        await may_finish.wait()
        await s.insert(User("Sam", 2))  # the open transaction may finish its work

    async with trio.open_nursery() as nursery:
        nursery.start_soon(engine.transaction, work)
        await in_transaction.wait()
        with pytest.raises(orm.ORMError, match="transaction"):
            await engine.close(grace=0.05)
        with pytest.raises(orm.ORMError, match="closed"):
            await engine.new_session().model(User).count()  # closed to new work at once
        may_finish.set()
    await engine.close()  # a no-op now
    with sqlite3.connect(tmp_path / "c.db") as conn:
        assert conn.execute("SELECT count(*) FROM User").fetchone() == (2,)


HOLD_WRITE_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@pytest.fixture
def write_lock(sqlite_engine: orm.Engine) -> Iterator[subprocess.Popen[str]]:
    with holding_write_lock(sqlite_engine.path) as proc:
        yield proc


@contextmanager
def holding_write_lock(path: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the database's write lock until its stdin gets a line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    yield proc
    proc.kill()
    proc.wait()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.stdout.close()


class _Retried(logging.Handler):
    """Sets an event when the ORM logs that it retries a locked database."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.event = trio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "locked" in record.getMessage():
            self.event.set()


@pytest.fixture
def retried() -> Iterator[trio.Event]:
    handler = _Retried()
    orm_log = logging.getLogger("geetrio.orm")
    level = orm_log.level
    orm_log.addHandler(handler)
    orm_log.setLevel(logging.DEBUG)
    yield handler.event
    orm_log.removeHandler(handler)
    orm_log.setLevel(level)


async def test_a_transaction_waits_for_another_process_write_lock(
    sqlite_engine: orm.Engine, write_lock: subprocess.Popen[str], retried: trio.Event
) -> None:
    async def work(s: orm.Session) -> int:
        await s.insert(User("Tom", 1))
        return await s.model(User).count()

    async with trio.open_nursery() as nursery:

        async def transaction() -> None:
            assert await sqlite_engine.transaction(work) == 1

        nursery.start_soon(transaction)
        await retried.wait()  # it met the lock and retries (well past the busy timeout)
        assert write_lock.stdin is not None
        write_lock.stdin.write("release\n")
        write_lock.stdin.flush()
    assert await names(sqlite_engine) == ["Tom"]


async def test_a_transaction_waiting_on_a_lock_is_cancellable(
    sqlite_engine: orm.Engine, write_lock: subprocess.Popen[str], retried: trio.Event
) -> None:
    with trio.move_on_after(0.3) as scope:
        await sqlite_engine.transaction(lambda s: s.insert(User("Tom", 1)))
    assert scope.cancelled_caught
    assert retried.is_set()
    write_lock.kill()
    write_lock.wait()
    assert await sqlite_engine.transaction(lambda s: s.insert(User("Sam", 2))) == 1  # still usable
    assert await names(sqlite_engine) == ["Sam"]


async def test_find_and_first_on_a_session(engine: orm.Engine) -> None:
    s = engine.new_session()
    with pytest.raises(orm.NotFound):
        await s.first(User)
    await s.insert(User("Tom", 18), User("Sam", 25))
    assert sorted(await s.find(User), key=lambda u: u.age) == [User("Tom", 18), User("Sam", 25)]
    assert await s.first(User) in (User("Tom", 18), User("Sam", 25))


@dataclass
class Parent:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    nickname: str = ""


@dataclass
class ParentV2:
    __tablename__ = "Parent"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""


@dataclass
class Child:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    parent_id: int = field(
        default=0, metadata={"geeorm": "REFERENCES Parent(id) ON DELETE CASCADE"}
    )


async def test_a_rebuild_never_fires_on_delete_actions_elsewhere(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "fk.db") as engine:
        s = engine.new_session()
        await engine.migrate(Parent)
        await engine.migrate(Child)
        await s.insert(Parent(1, "Tom", "t"), Parent(2, "Sam", "s"))
        await s.insert(Child(10, 1), Child(11, 1), Child(12, 2))
        await engine.migrate(ParentV2)  # drops a column: a table rebuild
        assert await s.model(Child).count() == 3  # the cascade did not fire
        assert await s.model(ParentV2).order_by("id").find() == [
            ParentV2(1, "Tom"),
            ParentV2(2, "Sam"),
        ]
        assert await s.raw("PRAGMA foreign_keys").query_row() == (1,)  # back on afterwards
        with pytest.raises(orm.IntegrityError):
            await s.insert(Child(13, 99))  # and enforced


async def test_a_rebuild_that_breaks_foreign_keys_is_rolled_back(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "fk.db") as engine:
        s = engine.new_session()
        await engine.migrate(Parent)
        await engine.migrate(Child)
        await s.insert(Parent(1, "Tom", "t"))
        await s.raw("PRAGMA foreign_keys=OFF").exec()
        await s.insert(Child(10, 99))  # an orphan, written while the checks were off
        await s.raw("PRAGMA foreign_keys=ON").exec()
        with pytest.raises(orm.ORMError, match="foreign key"):
            await engine.migrate(ParentV2)
        columns = [row[1] for row in await s.raw("PRAGMA table_info(Parent)").query_rows()]
        assert columns == ["id", "name", "nickname"]  # rolled back: the table is unchanged
        assert await s.raw("PRAGMA foreign_keys").query_row() == (1,)


async def test_a_rebuild_inside_an_open_transaction_is_refused(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "fk.db") as engine:
        await engine.migrate(Parent)

        async def work(s: orm.Session) -> None:
            await engine.migrate(ParentV2)

        with pytest.raises(orm.ORMError, match="outside"):
            await engine.transaction(work)


@pytest.fixture
def locked_new_file(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    path = str(tmp_path / "shared.db")
    sqlite3.connect(path).close()  # a new file, in the default rollback-journal mode
    with holding_write_lock(path) as proc:
        yield path, proc


async def test_opening_a_file_another_process_holds_locked_waits_for_it(
    locked_new_file: tuple[str, subprocess.Popen[str]], retried: trio.Event
) -> None:
    """Several processes opening one new file together (cache nodes sharing a database)
    meet each other's lock while one switches it to WAL: ``open`` retries, never fails."""
    path, proc = locked_new_file
    opened: list[orm.Engine] = []
    async with trio.open_nursery() as nursery:

        async def open_it() -> None:
            opened.append(await orm.Engine.open("sqlite3", path))

        nursery.start_soon(open_it)
        await retried.wait()  # it met the lock and retries
        assert proc.stdin is not None
        proc.stdin.write("release\n")
        proc.stdin.flush()
    await opened[0].migrate(User)
    assert await opened[0].new_session().raw("PRAGMA journal_mode").query_row() == ("wal",)
    await opened[0].close()


async def test_a_statement_cancelled_before_its_worker_thread_starts_comes_back(
    engine: orm.Engine,
) -> None:
    """A fault injected where it happened under load (50 tasks, one failing): the
    worker thread of a statement cannot start yet (its connection's limiter is taken)
    when the statement is cancelled. The caller gets ``Cancelled`` (it used to wait
    forever for an answer no thread would give), and the engine stays usable."""
    import trio.testing

    s = engine.new_session()
    db = engine._db
    pooled = getattr(db, "_idle", None)
    limiter = pooled[0].limiter if pooled else db.limiter  # PostgreSQL's connection, sqlite's
    scopes: list[trio.CancelScope] = []
    done = trio.Event()

    async def statement() -> None:
        with trio.CancelScope() as scope:
            scopes.append(scope)
            if pooled:  # PostgreSQL: every statement has a worker thread
                await s.model(User).count()
            else:  # sqlite: a transaction's worker thread
                await engine.transaction(lambda session: session.model(User).count())
        assert scope.cancelled_caught
        done.set()

    await limiter.acquire()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(statement)
            await trio.testing.wait_all_tasks_blocked()
            scopes[0].cancel()
            await trio.testing.wait_all_tasks_blocked()
            came_back = done.is_set()  # with the limiter still taken: no thread helped
            limiter.release()
    finally:
        if limiter.borrowed_tokens:
            limiter.release()
    assert came_back
    assert await s.model(User).count() == 0


async def test_tasks_sharing_a_transaction_get_their_own_answers_one_cancelled(
    sqlite_engine: orm.Engine,
) -> None:
    """Twenty tasks in one transaction, their statements in flight together (one task
    waits on the worker's answer bell, the others are answered through the trio token),
    one of them — a query that would run for minutes — cancelled mid-flight: it stops,
    every other task gets its own answers, the transaction commits them, and the engine
    serves on. On sqlite only: on PostgreSQL an interrupted statement aborts the whole
    transaction (its rule, in the README), so the siblings' later statements fail there
    by design."""
    engine = sqlite_engine
    seen: dict[int, int] = {}
    victim = trio.CancelScope()

    async def one(s: orm.Session, i: int) -> None:
        if i == 7:
            with victim:
                await s.raw(LONG_QUERY).query_row()
            return
        await s.insert(User(f"t{i}", i))
        seen[i] = (await s.model(User).where("name = ?", f"t{i}").first()).age

    async def work(s: orm.Session) -> None:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(one, s, i)
            await trio.testing.wait_all_tasks_blocked()
            victim.cancel()

    with trio.fail_after(10):  # a watchdog: uninterrupted, the query runs for minutes
        await engine.transaction(work)
    assert victim.cancelled_caught
    assert seen == {i: i for i in range(20) if i != 7}
    names = set(await engine.new_session().model(User).pluck("name"))
    assert names == {f"t{i}" for i in range(20) if i != 7}
