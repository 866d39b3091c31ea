from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from geetrio import orm


async def columns(engine: orm.Engine, table: str) -> list[str]:
    rows = await engine.new_session().raw(engine.dialect.columns_sql(table)).query_rows()
    return [row[1] for row in rows]


@dataclass
class PersonV1:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
    nickname: str = ""


@dataclass
class PersonV2:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
    city: str = "Paris"
    score: float = 1.5


@dataclass
class PersonV3:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
    city: str = "Paris"
    score: float = 1.5
    active: bool = True


async def test_migrate_adds_and_drops_columns_keeping_rows(database: tuple[str, str]) -> None:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)  # creates the table
        await s.insert(PersonV1("Tom", 18, "tommy"), PersonV1("Sam", 25, "sammy"))
        await engine.migrate(PersonV2)  # drops nickname, adds city and score
        assert await columns(engine, "person") == ["name", "age", "city", "score"]
        assert await s.model(PersonV2).order_by("age").find() == [
            PersonV2("Tom", 18, "Paris", 1.5),
            PersonV2("Sam", 25, "Paris", 1.5),
        ]
        await engine.migrate(PersonV3)  # only adds: ALTER TABLE, default for old rows
        assert [p.active for p in await s.model(PersonV3).find()] == [True, True]


async def test_primary_key_survives_the_rebuild(database: tuple[str, str]) -> None:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"))
        await engine.migrate(PersonV2)
        with pytest.raises(orm.IntegrityError):  # the rebuilt table kept its primary key
            await s.insert(PersonV2("Tom", 1))
        await engine.migrate(PersonV2)  # nothing to do: no error, rows untouched
        assert await s.model(PersonV2).count() == 1


@dataclass
class PersonStrict:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = field(default=0, metadata={"geeorm": "UNIQUE"})
    code: str = field(default="none", metadata={"geeorm": "NOT NULL"})


async def test_new_not_null_columns_get_their_default(database: tuple[str, str]) -> None:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"), PersonV1("Sam", 25, "s"))
        await engine.migrate(PersonStrict)  # rebuild: drops nickname, adds code NOT NULL
        assert [p.code for p in await s.model(PersonStrict).find()] == ["none", "none"]


@dataclass
class PersonWithUniqueEmail:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
    nickname: str = ""
    email: str | None = field(default=None, metadata={"geeorm": "UNIQUE"})


async def test_added_columns_with_constraints_rebuild_the_table(database: tuple[str, str]) -> None:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"))
        await engine.migrate(PersonWithUniqueEmail)  # ADD COLUMN cannot add UNIQUE
        await s.model(PersonWithUniqueEmail).update({"email": "tom@example.com"})
        with pytest.raises(orm.IntegrityError):
            await s.insert(PersonWithUniqueEmail("Sam", 1, "s", "tom@example.com"))


@dataclass
class PersonCoded:
    __tablename__ = "person"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0
    code: str = field(default="none", metadata={"geeorm": "NOT NULL UNIQUE"})


async def test_a_failing_migration_changes_nothing(database: tuple[str, str]) -> None:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"), PersonV1("Sam", 18, "s"))
        with pytest.raises(orm.IntegrityError):
            await engine.migrate(PersonCoded)  # drops nickname; both rows get code 'none'
        assert await columns(engine, "person") == ["name", "age", "nickname"]
        assert await s.model(PersonV1).count() == 2
        tables = await s.raw(engine.dialect.table_exists_sql("person__geetrio_migrate")[0],
                             "person__geetrio_migrate").query_rows()  # fmt: skip
        assert tables == []  # no half-built temporary table left


async def test_on_sqlite_a_rebuild_applies_new_constraints_to_kept_columns(
    database: tuple[str, str],
) -> None:
    """sqlite rebuilds the table, so changed tags of kept columns apply (here: age
    becomes UNIQUE and the copy fails); PostgreSQL alters in place: it adds and drops
    columns, and leaves kept columns as they are."""
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"), PersonV1("Sam", 18, "s"))  # same age
        if engine.dialect.name == "sqlite3":
            with pytest.raises(orm.IntegrityError, match="UNIQUE"):
                await engine.migrate(PersonStrict)
            assert await columns(engine, "person") == ["name", "age", "nickname"]
        else:
            await engine.migrate(PersonStrict)
            assert await columns(engine, "person") == ["name", "age", "code"]
            assert await s.model(PersonStrict).count() == 2
