"""Upsert on both dialects: insert-or-ignore and insert-or-update on a conflict target
(``ON CONFLICT ... DO NOTHING / DO UPDATE``), 50 concurrent tasks inserting the same keys
ending with one row each, and targets that cannot conflict refused before any SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import trio

from geetrio import orm
from tests.orm.conftest import User


@dataclass
class Counter:  # one unique constraint: the conflict target
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    label: str = ""
    visits: int = 0


@dataclass
class Account:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    email: str = field(default="", metadata={"geeorm": "UNIQUE NOT NULL"})
    visits: int = 0
    plan: str = "free"


async def test_insert_or_ignore_keeps_what_is_there(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.insert(User("Tom", 18))
    added = await s.insert_or_ignore(User("Tom", 99), User("Sam", 25), conflict="name")
    assert added == 1
    rows = await s.model(User).order_by("name").values("name", "age")
    assert rows == [("Sam", 25), ("Tom", 18)]


async def test_upsert_updates_every_other_column_or_those_named(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Account).create_table()
    await s.insert(Account(1, "a@x", 1, "free"), Account(2, "b@x", 1, "free"))
    await s.upsert(Account(1, "a@x", 5, "pro"), Account(3, "c@x", 1, "free"), conflict="id")
    assert await s.model(Account).order_by("id").values("id", "visits", "plan") == [
        (1, 5, "pro"),
        (2, 1, "free"),
        (3, 1, "free"),
    ]
    # on the unique email, only visits change
    await s.upsert(Account(9, "b@x", 7, "pro"), conflict="email", update=["visits"])
    assert await s.model(Account).where("email = ?", "b@x").values("id", "visits", "plan") == [
        (2, 7, "free")
    ]
    await s.upsert(Account(9, "b@x", 8, "x"), conflict="email", update=[])  # = ignore
    assert await s.model(Account).where("email = ?", "b@x").pluck("visits") == [7]


async def test_fifty_tasks_upserting_the_same_keys_leave_one_row_each(
    engine: orm.Engine,
) -> None:
    """(On PostgreSQL a concurrent upsert still fails on a unique constraint other than
    its conflict target — its documented behaviour — so this model has only one.)"""
    s = engine.new_session()
    await s.model(Counter).create_table()

    async def visitor(task: int) -> None:
        for key in range(10):
            await s.upsert(Counter(key, f"k{key}", task), conflict="id", update=["visits"])

    async with trio.open_nursery() as nursery:
        for task in range(50):
            nursery.start_soon(visitor, task)
    assert await s.model(Counter).count() == 10
    assert await s.model(Counter).order_by("id").pluck("label") == [f"k{k}" for k in range(10)]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"conflict": "age"}, orm.ORMError, "no primary key or unique constraint on \\(age\\)"),
        ({"conflict": ("name", "age")}, orm.ORMError, "no primary key or unique"),
        ({"conflict": 'name" OR 1=1 --'}, ValueError, "has no column"),
        ({"conflict": "name", "update": ["nope"]}, ValueError, "has no column 'nope'"),
        ({"conflict": ()}, ValueError, "needs column names"),
    ],
)
async def test_targets_that_cannot_conflict_are_refused_before_any_sql(
    engine: orm.Engine, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    s = engine.new_session()
    with orm.count_queries() as counted, pytest.raises(error, match=message):
        await s.upsert(User("Tom", 1), **kwargs)  # type: ignore[arg-type]
    assert counted.count == 0
