"""Round trips on a real sqlite file."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geetrio import orm
from tests.orm.conftest import User


async def test_crud_round_trip(engine: orm.Engine) -> None:
    s = engine.new_session()
    assert await s.model(User).has_table()
    assert await s.insert(User("Tom", 18), User("Sam", 25), User("Jack", 40)) == 3
    adults = await s.where("age > ?", 18).order_by("age DESC").find(User)
    assert adults == [User("Jack", 40), User("Sam", 25)]
    assert await s.where("name = ?", "Tom").first(User) == User("Tom", 18)
    assert await s.model(User).where("name = ?", "Tom").update({"age": 30}) == 1
    assert await s.model(User).where("name = ?", "Tom").update("age", 31, "name", "Tommy") == 1
    assert await s.where("name = ?", "Tommy").first(User) == User("Tommy", 31)
    assert await s.model(User).where("age > ?", 30).delete() == 2
    assert await s.model(User).count() == 1
    assert await s.model(User).limit(0).find() == []
    with pytest.raises(orm.NotFound):
        await s.where("name = ?", "Nobody").first(User)


@dataclass
class Wide:  # 40 columns: fewer rows fit one statement's parameters
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    c01: int = 0
    c02: int = 0
    c03: int = 0
    c04: int = 0
    c05: int = 0
    c06: int = 0
    c07: int = 0
    c08: int = 0
    c09: int = 0
    c10: int = 0
    c11: int = 0
    c12: int = 0
    c13: int = 0
    c14: int = 0
    c15: int = 0
    c16: int = 0
    c17: int = 0
    c18: int = 0
    c19: int = 0
    c20: int = 0
    c21: int = 0
    c22: int = 0
    c23: int = 0
    c24: int = 0
    c25: int = 0
    c26: int = 0
    c27: int = 0
    c28: int = 0
    c29: int = 0
    c30: int = 0
    c31: int = 0
    c32: int = 0
    c33: int = 0
    c34: int = 0
    c35: int = 0
    c36: int = 0
    c37: int = 0
    c38: int = 0
    c39: int = 39


async def test_many_rows_go_in_multi_row_statements_all_or_nothing(engine: orm.Engine) -> None:
    """1,234 rows: two statements of 500 rows and 234 single ones, one transaction, one
    statement counted; a duplicate key in the second batch leaves nothing behind."""
    s = engine.new_session()
    people = [User(f"u{i:04d}", i) for i in range(1234)]
    with orm.count_queries() as counted:
        assert await s.insert(*people) == 1234
    assert counted.count == 1
    assert await s.model(User).order_by("name").find() == people
    clash = [User(f"v{i:04d}", i) for i in range(700)]
    clash[650] = User("u0003", 3)  # already there: the batch fails, so does the insert
    with pytest.raises(orm.IntegrityError):
        await s.insert(*clash)
    assert await s.model(User).count() == 1234

    async def then_fail(t: orm.Session) -> None:
        await t.insert(*(User(f"w{i:04d}", i) for i in range(600)))
        assert await t.model(User).count() == 1834
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await engine.transaction(then_fail)
    assert await s.model(User).count() == 1234
    await s.model(Wide).create_table()  # 40 columns: 24 rows a statement
    rows = [Wide(i, *range(i, i + 39)) for i in range(100)]
    assert await s.insert(*rows) == 100
    assert await s.model(Wide).order_by("id").find() == rows


async def test_queries_are_immutable_and_reusable(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.insert(*(User(f"u{i}", i) for i in range(10)))
    adults = s.model(User).where("age > ?", 5)
    assert await adults.count() == 4
    assert len(await adults.find(User)) == 4
    older = adults.where("age > ?", 7)  # a new query; `adults` is unchanged
    assert await older.count() == 2
    assert await adults.count() == 4
    assert await s.model(User).count() == 10  # nothing leaked into the session


async def test_raw(engine: orm.Engine) -> None:
    s = engine.new_session()
    assert await s.raw('INSERT INTO "User" VALUES (?, ?), (?, ?)', "a", 1, "b", 2).exec() == 2
    assert await s.raw('SELECT name, age FROM "User" WHERE age = ?', 2).query_row() == ("b", 2)
    assert await s.raw('SELECT name FROM "User" WHERE age > ?', 5).query_row() is None
    assert await s.raw('SELECT name FROM "User" ORDER BY name').query_rows() == [("a",), ("b",)]


async def test_hostile_values_stay_data(engine: orm.Engine) -> None:
    s = engine.new_session()
    evil = 'Robert\'); DROP TABLE "User"; --'
    await s.insert(User(evil, 1), User("x' OR '1'='1", 2))
    assert await s.where("name = ?", evil).first(User) == User(evil, 1)
    assert await s.where("name = ?", "nobody' OR '1'='1").find(User) == []
    assert await s.model(User).has_table()
    assert await s.model(User).count() == 2


@dataclass
class Odd:
    __tablename__ = 'select "from"'
    order: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    group: str = ""


async def test_reserved_and_odd_identifiers_are_quoted(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Odd).create_table()
    await s.insert(Odd(1, "a"), Odd(2, "b"))
    assert await s.model(Odd).where('"order" > ?', 1).find() == [Odd(2, "b")]
    assert await s.model(Odd).where('"order" = ?', 1).update({"group": "z"}) == 1
    await s.model(Odd).drop_table()
    assert not await s.model(Odd).has_table()
    await s.model(Odd).drop_table()  # dropping a missing table is a no-op


@dataclass
class Typed:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    flag: bool = False
    ratio: float = 0.0
    blob: bytes = b""
    when: datetime.datetime = datetime.datetime(2020, 1, 1)
    maybe: str | None = None


async def test_types_round_trip(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Typed).create_table()
    when = datetime.datetime(2026, 11, 25, 10, 30, 15, 123456)
    await s.insert(
        Typed(1, True, 0.5, b"\x00\xff", when, None), Typed(2, False, -1.25, b"", when, "x")
    )
    first, second = await s.model(Typed).order_by("id").find()
    assert first == Typed(1, True, 0.5, b"\x00\xff", when, None)
    assert first.flag is True and isinstance(first.when, datetime.datetime) and first.maybe is None
    assert second.flag is False and second.maybe == "x"
    await s.model(Typed).where("id = ?", 2).update({"when": datetime.datetime(2000, 1, 2)})
    assert (await s.model(Typed).where("id = ?", 2).first()).when == datetime.datetime(2000, 1, 2)


def driver_error(engine: orm.Engine, name: str) -> type[Exception]:
    """The driver's own exception class ``name`` (sqlite3's or psycopg's)."""
    import sqlite3

    if engine.dialect.name == "sqlite3":
        return getattr(sqlite3, name)  # type: ignore[no-any-return]
    import psycopg

    return getattr(psycopg, name)  # type: ignore[no-any-return]


async def test_constraint_errors_wrap_the_driver_error(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.insert(User("Tom", 1))
    with pytest.raises(orm.IntegrityError) as info:
        await s.insert(User("Tom", 2))
    assert isinstance(info.value.orig, driver_error(engine, "IntegrityError"))
    assert isinstance(info.value, orm.ORMError)
    assert await s.model(User).count() == 1  # the engine is still usable


async def test_database_errors_are_orm_errors_keeping_the_original(engine: orm.Engine) -> None:
    s = engine.new_session()
    with pytest.raises(orm.DatabaseError, match="syntax error") as info:
        await s.raw("SELEKT 1").query_row()
    assert isinstance(info.value, orm.ORMError)
    assert isinstance(info.value.orig, driver_error(engine, "DatabaseError"))
    missing = "no such table" if engine.dialect.name == "sqlite3" else "does not exist"
    with pytest.raises(orm.DatabaseError, match=missing):
        await engine.transaction(lambda t: t.raw("SELECT * FROM missing").query_rows())
    assert await s.raw("SELECT 1").query_row() == (1,)


async def test_bad_query_input(engine: orm.Engine) -> None:
    s = engine.new_session()
    with pytest.raises(ValueError):
        s.where("")
    with pytest.raises(ValueError, match="2 values"):
        s.where("age > ?", 1, 2)
    with pytest.raises(ValueError):
        s.model(User).limit(-1)
    with pytest.raises(ValueError):
        s.model(User).order_by("age; DROP TABLE x")
    with pytest.raises(ValueError, match="no column"):
        await s.model(User).update({"nope": 1})
    with pytest.raises(ValueError):
        await s.model(User).update("age")
    with pytest.raises(ValueError, match="no model"):
        await s.where("age > ?", 1).find()


async def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(orm.UnknownDialect, match="mysql"):
        await orm.Engine.open("mysql", tmp_path / "x.db")
    engine = await orm.Engine.open("sqlite3", str(tmp_path / "y.db"))  # str or PathLike
    await engine.close()
    with pytest.raises(orm.ORMError, match="closed"):
        await engine.new_session().raw("SELECT 1").query_row()


async def test_question_marks_in_literals_and_percent_signs_stay_sql(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.insert(User("why?", 1), User("T%m", 2), User("Tom", 3))
    assert await s.model(User).where("name = 'why?' OR name = ?", "Tom").count() == 2
    assert await s.model(User).where("name LIKE 'T%' AND age > ?", 2).count() == 1
    assert await s.raw(
        "SELECT count(*) FROM \"User\" WHERE name LIKE ? ESCAPE '\\'", "T\\%%"
    ).query_row() == (1,)
