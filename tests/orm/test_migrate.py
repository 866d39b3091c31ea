from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geetrio import orm


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


async def test_migrate_adds_and_drops_columns_keeping_rows(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "m.db") as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)  # creates the table
        await s.insert(PersonV1("Tom", 18, "tommy"), PersonV1("Sam", 25, "sammy"))
        await engine.migrate(PersonV2)  # drops nickname, adds city and score
        columns = [row[1] for row in await s.raw("PRAGMA table_info(person)").query_rows()]
        assert columns == ["name", "age", "city", "score"]
        assert await s.model(PersonV2).order_by("age").find() == [
            PersonV2("Tom", 18, "Paris", 1.5),
            PersonV2("Sam", 25, "Paris", 1.5),
        ]
        await engine.migrate(PersonV3)  # only adds: ALTER TABLE, default for old rows
        assert [p.active for p in await s.model(PersonV3).find()] == [True, True]


async def test_primary_key_survives_the_rebuild(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "m.db") as engine:
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


async def test_new_not_null_columns_get_their_default(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "m.db") as engine:
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


async def test_added_columns_with_constraints_rebuild_the_table(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "m.db") as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"))
        await engine.migrate(PersonWithUniqueEmail)  # ADD COLUMN cannot add UNIQUE
        await s.model(PersonWithUniqueEmail).update({"email": "tom@example.com"})
        with pytest.raises(orm.IntegrityError):
            await s.insert(PersonWithUniqueEmail("Sam", 1, "s", "tom@example.com"))


async def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "m.db") as engine:
        s = engine.new_session()
        await engine.migrate(PersonV1)
        await s.insert(PersonV1("Tom", 18, "t"), PersonV1("Sam", 18, "s"))  # same age
        with pytest.raises(orm.IntegrityError, match="UNIQUE"):
            await engine.migrate(PersonStrict)  # age becomes UNIQUE: the copy fails
        columns = [row[1] for row in await s.raw("PRAGMA table_info(person)").query_rows()]
        assert columns == ["name", "age", "nickname"]
        assert await s.model(PersonV1).count() == 2
        tables = await s.raw("SELECT name FROM sqlite_master WHERE type = 'table'").query_rows()
        assert tables == [("person",)]  # no half-built temporary table left
