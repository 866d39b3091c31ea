"""Indexes and unique constraints declared on models, on both dialects: created with
the table, enforced, usable as upsert targets, and kept in step by ``migrate`` (added
and dropped, rows kept, indexes made by hand left alone)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from geetrio import orm
from geetrio.orm.schema import parse


@dataclass
class Article:
    __tablename__ = "article"
    __indexes__ = (orm.index("author", "created"), orm.unique("author", "slug"))
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author: str = ""
    slug: str = ""
    created: int = 0


@dataclass
class ArticleV2:  # the same table, its indexes changed
    __tablename__ = "article"
    __indexes__ = (orm.index("slug"), orm.unique("author", "slug"))
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author: str = ""
    slug: str = ""
    created: int = 0


async def index_names(engine: orm.Engine) -> set[str]:
    sql, params = engine.dialect.indexes_sql("article")
    rows = await engine.new_session().raw(sql, *params).query_rows()
    return {row[0] for row in rows if not row[0].startswith(("sqlite_autoindex", "article_pkey"))}


async def test_indexes_are_created_and_unique_ones_enforced(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Article).create_table()
    assert await index_names(engine) == {
        "geeorm_ix_article_author_created",
        "geeorm_ux_article_author_slug",
    }
    await s.insert(Article(1, "ann", "hello", 1), Article(2, "bob", "hello", 2))
    with pytest.raises(orm.IntegrityError):
        await s.insert(Article(3, "ann", "hello", 3))
    # a declared unique constraint is a conflict target (columns in any order)
    await s.upsert(Article(9, "ann", "hello", 7), conflict=("slug", "author"), update=["created"])
    assert await s.model(Article).where("author = ?", "ann").values("id", "created") == [(1, 7)]
    with pytest.raises(orm.ORMError, match="no primary key or unique"):
        await s.upsert(Article(9, "ann", "x", 7), conflict=("author", "created"))


async def test_migrate_adds_and_drops_indexes_and_keeps_rows(engine: orm.Engine) -> None:
    s = engine.new_session()
    await s.model(Article).create_table()
    await s.insert(*(Article(i, f"a{i % 3}", f"s{i}", i) for i in range(30)))
    by_hand = engine.dialect.quote_identifier("by_hand_created")
    await s.raw(f'CREATE INDEX {by_hand} ON "article" ("created")').exec()
    await engine.migrate(ArticleV2)
    assert await index_names(engine) == {
        "geeorm_ix_article_slug",
        "geeorm_ux_article_author_slug",
        "by_hand_created",  # not ours: left alone
    }
    assert await s.model(ArticleV2).count() == 30
    await engine.migrate(Article)  # and back
    assert "geeorm_ix_article_author_created" in await index_names(engine)
    assert "geeorm_ix_article_slug" not in await index_names(engine)


async def test_a_unique_constraint_on_duplicates_fails_the_whole_migration(
    engine: orm.Engine,
) -> None:
    @dataclass
    class Loose:
        __tablename__ = "article"
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
        author: str = ""
        slug: str = ""
        created: int = 0

    s = engine.new_session()
    await s.model(Loose).create_table()
    await s.insert(Loose(1, "ann", "dup"), Loose(2, "ann", "dup"))
    with pytest.raises(orm.IntegrityError):
        await engine.migrate(Article)
    assert await index_names(engine) == set()  # rolled back: nothing half-done
    assert await s.model(Loose).count() == 2


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="column names"):
        orm.index()
    with pytest.raises(ValueError, match="twice"):
        orm.unique("a", "a")

    @dataclass
    class Ghost:
        __indexes__ = (orm.index("nope"),)
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})

    @dataclass
    class NotAnIndex:
        __indexes__ = ("id",)
        id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})

    with pytest.raises(orm.ORMError, match="no column 'nope'"):
        parse(Ghost, orm.SQLiteDialect())
    with pytest.raises(TypeError, match=r"orm\.index"):
        parse(NotAnIndex, orm.SQLiteDialect())
    long_name = orm.index("a" * 80).name("t" * 40)
    assert long_name.startswith("geeorm_ix_") and len(long_name) <= 60
