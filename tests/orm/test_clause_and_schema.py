"""SQL text and parameters, and the mapping from dataclasses (no database)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from geetrio.orm import SQLiteDialect, UnsupportedType, clause, quote_identifier
from geetrio.orm.schema import parse
from tests.orm.conftest import User

SQLITE = SQLiteDialect()


def schema_of(model: type):  # type: ignore[no-untyped-def]
    return parse(model, SQLITE)


def test_select_with_conditions_order_and_limit() -> None:
    sql, params = clause.select(
        schema_of(User), [("age > ?", (18,)), ("name <> ?", ("Tom",))], "age DESC", 10
    )
    assert (
        sql
        == 'SELECT "name", "age" FROM "User" WHERE (age > ?) AND (name <> ?) ORDER BY age DESC LIMIT 10'
    )
    assert params == (18, "Tom")


def test_insert_update_delete_count_create_drop() -> None:
    s = schema_of(User)
    assert clause.insert(s) == 'INSERT INTO "User" ("name", "age") VALUES (?, ?)'
    assert clause.update(s, {"age": 30}, [("name = ?", ("Tom",))]) == (
        'UPDATE "User" SET "age" = ? WHERE name = ?',
        (30, "Tom"),
    )
    assert clause.delete(s, [("name = ?", ("Tom",))]) == (
        'DELETE FROM "User" WHERE name = ?',
        ("Tom",),
    )
    assert clause.count(s) == ('SELECT count(*) FROM "User"', ())
    assert clause.create_table(s) == (
        'CREATE TABLE "User" ("name" text PRIMARY KEY DEFAULT \'\', "age" integer DEFAULT 0)'
    )
    assert clause.drop_table(s) == 'DROP TABLE IF EXISTS "User"'
    with pytest.raises(ValueError):
        clause.update(s, {})


def test_defaults_are_literals_only() -> None:
    assert [clause.literal(v) for v in (True, 3, 1.5, "it's", None, b"x")] == [
        "TRUE",
        "3",
        "1.5",
        "'it''s'",
        None,
        None,
    ]


def test_identifiers_are_always_quoted() -> None:
    assert quote_identifier("select") == '"select"'
    assert quote_identifier('we"ird') == '"we""ird"'
    for bad in ("", "a\x00b"):
        with pytest.raises(ValueError):
            quote_identifier(bad)


@dataclass
class Everything:
    __tablename__: ClassVar[str] = "everything"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    flag: bool = False
    ratio: float = 0.0
    text: str = ""
    blob: bytes = b""
    when: datetime.datetime = datetime.datetime(2020, 1, 1)
    maybe: int | None = None


def test_types_tablename_and_optional() -> None:
    s = schema_of(Everything)
    assert s.table == "everything"
    assert [(f.name, f.sql_type, f.nullable) for f in s.fields] == [
        ("id", "integer", False),
        ("flag", "bool", False),
        ("ratio", "real", False),
        ("text", "text", False),
        ("blob", "blob", False),
        ("when", "datetime", False),
        ("maybe", "integer", True),
    ]
    assert s.primary_key is not None and s.primary_key.name == "id"


@dataclass
class Unsupported:
    name: str = ""
    tags: list[str] = field(default_factory=list)


def test_unsupported_types_name_the_field_and_the_type() -> None:
    with pytest.raises(UnsupportedType, match=r"Unsupported\.tags.*list\[str\]") as info:
        schema_of(Unsupported)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("name", ["", "bad\x00name"])
def test_empty_or_nul_table_names_raise(name: str) -> None:
    model = type("Named", (), {"__tablename__": name, "__annotations__": {"x": int}, "x": 0})
    with pytest.raises(ValueError):
        schema_of(dataclass(model))


def test_models_must_be_dataclasses() -> None:
    class NotADataclass:
        x: int = 0

    with pytest.raises(TypeError, match="dataclass"):
        schema_of(NotADataclass)
