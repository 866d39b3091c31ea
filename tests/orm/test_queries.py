"""Queries beyond whole objects, on both dialects: offset and pages, aggregates (also
over a limited query), ``exists``, ``pluck``/``values``, a list bound to one ``?``;
and seeing the SQL — durations in the log, slow statements at WARNING,
``count_queries`` for the tests that prove there is no N+1."""

from __future__ import annotations

import logging

import pytest
import trio

from geetrio import orm
from tests.orm.conftest import User

AGES = {"Ann": 30, "Bob": 25, "Cid": 35, "Dee": 25, "Eve": 40}


@pytest.fixture
async def people(engine: orm.Engine) -> orm.Session:
    s = engine.new_session()
    await s.insert(*(User(name, age) for name, age in AGES.items()))
    return s


async def test_offset_and_pages(people: orm.Session) -> None:
    by_name = people.model(User).order_by("name")
    assert [u.name for u in await by_name.offset(3).find()] == ["Dee", "Eve"]
    assert [u.name for u in await by_name.limit(2).offset(1).find()] == ["Bob", "Cid"]
    page = await by_name.paginate(2, per_page=2)
    assert [u.name for u in page.items] == ["Cid", "Dee"]
    assert (page.page, page.per_page, page.total, page.pages, page.has_next) == (2, 2, 5, 3, True)
    last = await by_name.paginate(3, per_page=2)
    assert [u.name for u in last.items] == ["Eve"] and not last.has_next
    beyond = await by_name.paginate(9, per_page=2)
    assert beyond.items == [] and beyond.total == 5
    empty = await people.model(User).where("age > ?", 99).paginate(1, per_page=10)
    assert (empty.items, empty.total, empty.pages) == ([], 0, 0)


async def test_aggregates_match_the_same_sql_written_by_hand(people: orm.Session) -> None:
    q = people.model(User)
    assert await q.sum("age") == sum(AGES.values())
    assert await q.min("age") == 25 and await q.max("age") == 40
    assert await q.avg("age") == pytest.approx(31.0)
    assert await q.where("age < ?", 30).sum("age") == 50
    by_hand = await people.raw('SELECT sum("age"), min("age"), max("age") FROM "User"').query_row()
    assert by_hand == (await q.sum("age"), await q.min("age"), await q.max("age"))
    # over what limit/offset leave: the two youngest, by name
    youngest = q.order_by("age, name").limit(2)
    assert await youngest.sum("age") == 50
    assert await q.order_by("age, name").offset(3).max("age") == 40
    nobody = q.where("age > ?", 99)
    assert await nobody.sum("age") is None and await nobody.avg("age") is None
    assert await nobody.max("name") is None


async def test_exists_pluck_and_values(people: orm.Session) -> None:
    q = people.model(User)
    assert await q.where("name = ?", "Ann").exists()
    assert not await q.where("name = ?", "Zed").exists()
    assert await q.order_by("name").pluck("name") == list(sorted(AGES))
    assert await q.where("age = ?", 25).order_by("name").values("name", "age") == [
        ("Bob", 25),
        ("Dee", 25),
    ]
    assert await q.order_by("age DESC").limit(1).pluck("name") == ["Eve"]


async def test_a_list_bound_to_one_placeholder_is_expanded(people: orm.Session) -> None:
    q = people.model(User).order_by("name")
    assert [u.name for u in await q.where("name IN (?)", ["Ann", "Eve", "Zed"]).find()] == [
        "Ann",
        "Eve",
    ]
    assert await q.where("name IN (?) AND age > ?", ("Ann", "Bob"), 26).pluck("name") == ["Ann"]
    assert await q.where("name IN (?)", []).find() == []  # IN (NULL): nothing
    assert await q.where("name IN (?)", {"Cid"}).count() == 1
    # a '?' inside a literal is not a placeholder
    assert await q.where("name <> '?' AND name IN (?)", ["Bob"]).pluck("name") == ["Bob"]
    hostile = ["x') OR 1=1 --", "Ann"]  # items are parameters, never SQL
    assert await q.where("name IN (?)", hostile).pluck("name") == ["Ann"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda q: q.sum("age; DROP TABLE User"), orm.ORMError, "no column"),
        (lambda q: q.pluck('"name"'), orm.ORMError, "no column"),
        (lambda q: q.values(), ValueError, "at least one column"),
        (lambda q: q.paginate(0, 10), ValueError, "page from 1"),
        (lambda q: q.paginate(1, 0), ValueError, "positive per_page"),
    ],
)
async def test_bad_columns_and_pages_are_refused_before_any_sql(
    people: orm.Session, call: object, error: type[Exception], message: str
) -> None:
    with orm.count_queries() as counted, pytest.raises(error, match=message):
        await call(people.model(User))  # type: ignore[operator]
    assert counted.count == 0
    with pytest.raises(ValueError, match="non-negative"):
        people.model(User).offset(-1)


async def test_count_queries_counts_this_task_and_its_children_only(
    engine: orm.Engine, people: orm.Session
) -> None:
    q = people.model(User)
    go, other_done = trio.Event(), trio.Event()

    async def elsewhere() -> None:  # started before the block: its statements are not counted
        await go.wait()
        await q.count()
        other_done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(elsewhere)
        with orm.count_queries() as counted:
            await q.find()
            async with trio.open_nursery() as inner:
                inner.start_soon(q.count)  # started by the counting task: counted
            go.set()
            await other_done.wait()
            with orm.count_queries() as nested:
                await q.exists()
    assert counted.count == 3 and nested.count == 1
    assert counted.statements[0].startswith('SELECT "name", "age" FROM "User"')


async def test_a_statement_the_closed_engine_refuses_is_not_counted(engine: orm.Engine) -> None:
    s = engine.new_session()
    await engine.close()
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match="closed"):
        await s.model(User).count()
    assert counted.count == 0


async def test_statements_are_logged_with_durations_and_slow_ones_warn(
    engine: orm.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="geetrio.orm")
    s = engine.new_session()
    await s.model(User).count()
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(m.startswith('SELECT count(*) FROM "User"') and m.endswith(" ms)") for m in debug)
    caplog.clear()
    engine.slow_threshold = 0.0  # every statement is slow now
    await s.model(User).count()
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("slow statement (")
    assert 'SELECT count(*) FROM "User"' in warning.getMessage()
    engine.slow_threshold = None
    caplog.clear()
    await s.model(User).count()
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
