"""A dialect owns what differs between databases: a new one is one class and one
``register_dialect`` call, and every statement the ORM writes follows it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geetrio import orm
from geetrio.orm import _dialect as dialect_module


def backquote(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError(f"bad identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


class BackquotedSQLite(orm.SQLiteDialect):
    """sqlite with MySQL's identifier quoting (sqlite accepts both) and its own text type."""

    name = "sqlite-backquoted"
    types = {**orm.SQLiteDialect.types, str: "varchar"}
    quote_identifier = staticmethod(backquote)


@dataclass
class Item:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    label: str = ""


@dataclass
class ItemV2:
    __tablename__ = "Item"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    label: str = ""
    stock: int = field(default=0, metadata={"geeorm": "NOT NULL"})


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dialects registered by the test are forgotten after it."""
    monkeypatch.setattr(dialect_module, "_DIALECTS", dict(dialect_module._DIALECTS))


@pytest.fixture
def backquoted(registry: None) -> None:
    orm.register_dialect(BackquotedSQLite())


async def test_a_registered_dialect_writes_every_statement(
    backquoted: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "geetrio.orm")
    async with orm.open("sqlite-backquoted", tmp_path / "b.db") as engine:
        assert isinstance(engine.dialect, BackquotedSQLite)
        s = engine.new_session()
        await s.model(Item).create_table()
        await s.insert(Item(1, "pen"), Item(2, "ink"))
        await s.model(Item).where("id = ?", 2).update({"label": "paper"})
        await engine.transaction(lambda tx: tx.insert(Item(3, "nib")))
        await engine.migrate(ItemV2)  # a constraint added: sqlite's rebuild, in backquotes
        assert await s.model(ItemV2).order_by("id").find() == [
            ItemV2(1, "pen", 0),
            ItemV2(2, "paper", 0),
            ItemV2(3, "nib", 0),
        ]
        ddl = await s.raw("SELECT sql FROM sqlite_master WHERE name = 'Item'").query_row()
    # (sqlite writes the name a RENAME gave in its own quotes)
    assert ddl[0].endswith(
        "(`id` integer PRIMARY KEY DEFAULT 0, `label` varchar DEFAULT '', "
        "`stock` integer NOT NULL DEFAULT 0)"
    )
    written = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(m.startswith("UPDATE `Item` SET `label` = ?") for m in written)
    assert any(m.startswith("INSERT INTO `Item` (`id`, `label`)") for m in written)
    assert not [m for m in written if '"' in m.split("'")[0]]  # no standard quoting left


async def test_unknown_dialects_name_the_registered_ones(backquoted: None) -> None:
    with pytest.raises(orm.UnknownDialect, match="postgresql, sqlite-backquoted, sqlite3"):
        await orm.Engine.open("mysql", "x")


def test_a_dialect_needs_a_name() -> None:
    class Nameless(orm.StandardDialect):
        pass

    with pytest.raises(ValueError, match="needs a name"):
        orm.register_dialect(Nameless())


async def test_the_standard_dialect_has_no_backend_of_its_own(
    registry: None, tmp_path: Path
) -> None:
    class Paper(orm.StandardDialect):
        name = "paper"

    orm.register_dialect(Paper())
    with pytest.raises(NotImplementedError, match="paper dialect has no backend"):
        await orm.Engine.open("paper", tmp_path / "p.db")
