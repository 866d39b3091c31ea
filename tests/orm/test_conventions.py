"""gorm's conventions, opt-in, on both dialects: ``created_at``/``updated_at`` filled on
insert and update; soft delete with ``deleted_at`` — ``delete()`` marks, queries skip
marked rows (counts, aggregates, preloads too) unless ``with_deleted()``, and
``hard_delete()`` removes for good."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pytest

from geetrio import orm
from geetrio.orm.schema import parse


@dataclass
class Doc:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    title: str = ""
    created: datetime.datetime | None = orm.created_at()
    updated: datetime.datetime | None = orm.updated_at()
    deleted: datetime.datetime | None = orm.deleted_at()
    notes: list[Note] = orm.has_many("doc_id")


@dataclass
class Note:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    doc_id: int = orm.foreign_key(Doc, default=0)
    text: str = ""
    deleted: datetime.datetime | None = orm.deleted_at()


@pytest.fixture
async def docs(engine: orm.Engine) -> orm.Session:
    s = engine.new_session()
    await s.model(Doc).create_table()
    await s.model(Note).create_table()
    return s


async def test_timestamps_are_filled_on_insert_and_update(docs: orm.Session) -> None:
    before = orm.utc_now()
    doc = Doc(1, "draft")
    await docs.insert(doc)
    assert doc.created is not None and doc.created == doc.updated and doc.created >= before
    stored = await docs.model(Doc).first()
    assert stored.created == doc.created and stored.updated == doc.updated
    given = datetime.datetime(2020, 1, 2, 3, 4, 5)
    await docs.insert(Doc(2, "old", created=given))  # a value given is kept
    assert (await docs.model(Doc).where("id = ?", 2).first()).created == given
    await docs.model(Doc).where("id = ?", 1).update({"title": "final"})
    after = await docs.model(Doc).where("id = ?", 1).first()
    assert after.updated is not None and after.updated >= doc.updated
    assert after.created == doc.created
    await docs.model(Doc).where("id = ?", 1).update({"updated": given})  # set: kept
    assert (await docs.model(Doc).where("id = ?", 1).first()).updated == given


async def test_soft_delete_hides_rows_until_asked(docs: orm.Session) -> None:
    await docs.insert(*(Doc(i, f"d{i}") for i in range(1, 6)))
    await docs.insert(Note(1, 1, "a"), Note(2, 1, "b"), Note(3, 2, "c"))
    assert await docs.model(Doc).where("id IN (?)", [1, 2]).delete() == 2
    q = docs.model(Doc)
    assert await q.count() == 3 and await q.order_by("id").pluck("id") == [3, 4, 5]
    assert not await q.where("id = ?", 1).exists()
    assert await q.sum("id") == 12
    with pytest.raises(orm.NotFound):
        await q.where("id = ?", 1).first()
    everything = q.with_deleted()
    assert await everything.count() == 5
    marked = await everything.where("id = ?", 1).first()
    assert marked.deleted is not None
    assert await q.where("id = ?", 1).delete() == 0  # already deleted: nothing to mark
    await docs.model(Note).where("id = ?", 2).delete()
    [one] = await docs.model(Doc).with_deleted().where("id = ?", 1).preload("notes").find()
    assert [n.text for n in one.notes] == ["a"]  # the soft-deleted note stays hidden
    assert [n.id async for n in docs.model(Note).iterate()] == [1, 3]


async def test_hard_delete_removes_for_good(docs: orm.Session) -> None:
    await docs.insert(Doc(1, "x"), Doc(2, "y"))
    await docs.model(Doc).where("id = ?", 1).delete()
    assert await docs.model(Doc).where("id = ?", 2).hard_delete() == 1
    assert await docs.model(Doc).with_deleted().pluck("id") == [1]  # 1 marked, 2 gone
    assert await docs.model(Doc).with_deleted().delete() == 1  # unscoped: removes
    assert await docs.model(Doc).with_deleted().count() == 0


def test_a_timestamp_column_must_be_a_datetime() -> None:
    @dataclass
    class Wrong:
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
        created: str | None = orm.created_at()

    with pytest.raises(orm.UnsupportedType, match="a created_at column is a datetime"):
        parse(Wrong, orm.SQLiteDialect())
