"""Joins and grouping on both dialects: ``join``/``left_join`` along a foreign key or an
``on=`` of our own, joined columns selected and filtered, a table joined twice under an
alias, ``group_by``/``having`` with aggregates — each compared with the same SQL written
by hand; soft-deleted joined rows left out; and every bad name refused before any SQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest

from geetrio import orm


@dataclass
class Writer:
    __tablename__ = "writers"  # lower case: PostgreSQL folds unquoted names in our SQL

    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    mentor_id: int | None = None  # another writer: joined under an alias


@dataclass
class Article:
    __tablename__ = "articles"

    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    writer_id: int = orm.foreign_key(Writer, on_delete="CASCADE", default=0)
    words: int = 0
    score: float = 0.0
    deleted_at: datetime.datetime | None = orm.deleted_at()


@dataclass
class Stray:  # no foreign key to anything
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})


@dataclass
class Review:  # two foreign keys to Writer: a join needs on=
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author_id: int = orm.foreign_key(Writer, default=0)
    reviewer_id: int = orm.foreign_key(Writer, default=0)


# writer id -> words of their articles (Dan has none)
WORDS = {1: [100, 300, 500], 2: [200], 3: [50, 60, 70, 80]}
NAMES = {1: "Ann", 2: "Bob", 3: "Cid", 4: "Dan"}


@pytest.fixture
async def s(engine: orm.Engine) -> orm.Session:
    s = engine.new_session()
    for model in (Writer, Article, Stray, Review):
        await s.model(model).create_table()
    await s.insert(*(Writer(i, name, 1 if i > 1 else None) for i, name in NAMES.items()))
    articles = [(w, words) for w, all_words in WORDS.items() for words in all_words]
    await s.insert(
        *(Article(i, w, words, words / 10) for i, (w, words) in enumerate(articles, start=1))
    )
    return s


async def hand(s: orm.Session, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return await s.raw(sql, *args).query_rows()


async def test_a_join_along_the_foreign_key_filters_and_selects_joined_columns(
    s: orm.Session,
) -> None:
    q = s.model(Writer).join(Article).where("articles.words >= ?", 200).order_by("articles.id")
    # find: the query's model, one per joined row
    assert [w.name for w in await q.find()] == ["Ann", "Ann", "Bob"]
    assert await q.count() == 3 and await q.exists()
    rows = await q.values("name", "articles.words", "articles.score")
    assert rows == [("Ann", 300, 30.0), ("Ann", 500, 50.0), ("Bob", 200, 20.0)]
    assert rows == await hand(
        s,
        "SELECT w.name, a.words, a.score FROM writers w JOIN articles a "
        "ON a.writer_id = w.id WHERE a.words >= ? ORDER BY a.id",
        200,
    )
    assert await q.sum("articles.words") == 1000
    assert await q.max("articles.words") == 500
    # the join from the other side follows the same key
    back = s.model(Article).join(Writer).where("writers.name = ?", "Cid")
    assert sorted(await back.pluck("words")) == WORDS[3]


async def test_a_left_join_keeps_rows_without_a_match(s: orm.Session) -> None:
    q = s.model(Writer).left_join(Article).where("articles.id IS NULL")
    assert await q.values("name", "articles.words") == [("Dan", None)]
    assert await s.model(Writer).join(Article).where("articles.id IS NULL").count() == 0


async def test_on_with_values_and_a_table_joined_twice_under_an_alias(s: orm.Session) -> None:
    q = (
        s.model(Writer)
        .join(Writer, "mentor.id = writers.mentor_id", alias="mentor")
        .join(Article, "articles.writer_id = writers.id AND articles.words > ?", 60)
        .order_by("articles.words")
    )
    assert await q.values("name", "mentor.name", "articles.words") == [
        ("Cid", "Ann", 70),
        ("Cid", "Ann", 80),
        ("Bob", "Ann", 200),
    ]
    listed = s.model(Writer).join(
        Article, "articles.writer_id = writers.id AND writers.id IN (?)", [2, 4]
    )
    assert await listed.pluck("articles.words") == [200]


async def test_group_by_and_having_match_the_same_sql_by_hand(s: orm.Session) -> None:
    q = (
        s.model(Writer)
        .join(Article)
        .group_by("id", "name")
        .having("count(*) >= ?", 3)
        .order_by("name")
    )
    rows = await q.values("name", "count(*)", "sum(articles.words)", "avg(articles.words)")
    assert rows == [("Ann", 3, 900, 300.0), ("Cid", 4, 260, 65.0)]
    by_hand = await hand(
        s,
        "SELECT w.name, count(*), sum(a.words), avg(a.words) FROM writers w JOIN articles a "
        "ON a.writer_id = w.id GROUP BY w.id, w.name HAVING count(*) >= ? ORDER BY w.name",
        3,
    )
    assert rows == [(n, c, int(total), float(mean)) for n, c, total, mean in by_hand]
    # the same types on both dialects (PostgreSQL's sum of bigint is a Decimal)
    assert [type(v) for v in rows[0]] == [str, int, int, float]
    assert await q.count() == 2  # groups
    # grouped by the primary key, find gives one object per group
    assert [w.name for w in await q.find()] == ["Ann", "Cid"]
    spread = (
        await s.model(Article)
        .group_by("writer_id")
        .order_by("writer_id")
        .values("writer_id", "min(words)", "max(words)", "count(DISTINCT words)", "sum(score)")
    )
    assert spread[0] == (1, 100, 500, 3, pytest.approx(90.0))
    assert len(spread) == 3 and isinstance(spread[0][4], float)
    assert await s.model(Article).values("count(*)") == [(8,)]


async def test_soft_deleted_joined_rows_are_left_out_unless_asked(s: orm.Session) -> None:
    await s.model(Article).where("words = ?", 500).delete()  # marked, not removed
    q = s.model(Writer).join(Article).where("writers.name = ?", "Ann")
    assert sorted(await q.pluck("articles.words")) == [100, 300]
    assert sorted(await q.with_deleted().pluck("articles.words")) == [100, 300, 500]
    # a left join keeps the writer whose only article is deleted (the scope is in ON)
    await s.model(Article).where("writer_id = ?", 2).delete()
    bob = s.model(Writer).left_join(Article).where("writers.id = ?", 2)
    assert await bob.values("name", "articles.id") == [("Bob", None)]


async def test_iterate_and_pages_over_a_join_give_what_find_gives(s: orm.Session) -> None:
    q = s.model(Writer).join(Article)
    everything = sorted(w.name for w in await q.find())
    assert sorted([w.name async for w in q.iterate(batch=2)]) == everything
    assert len(everything) == 8
    page = await q.order_by("articles.id").paginate(2, per_page=4)
    assert (page.total, [w.name for w in page.items]) == (8, ["Cid", "Cid", "Cid", "Cid"])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: s.model(Writer).join(Stray), "without a condition: no foreign key"),
        (lambda s: s.model(Writer).join(Review), "ambiguous"),
        (lambda s: s.model(Writer).join(Writer, "1 = 1"), "already in the query"),
        (lambda s: s.model(Writer).join(Article, alias='a"; DROP TABLE x'), "plain name"),
    ],
)
async def test_bad_joins_are_refused_when_built(s: orm.Session, build: Any, message: str) -> None:
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match=message):
        build(s)
    assert counted.count == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda q: q.values("Nowhere.words"), "no table 'Nowhere'"),
        (lambda q: q.values("words"), "writers has no column 'words'.*table.column"),
        (lambda q: q.values("articles.words; DROP TABLE Writer"), "no column"),
        (lambda q: q.values("lower(name)"), "no column nor aggregate"),
        (lambda q: q.values("sum(*)"), "no column"),
        (lambda q: q.values("count(articles.words) FROM x --)"), "no column"),
        (lambda q: q.group_by('"name"').values("name"), "no column"),
        (lambda q: q.having("count(*) > ?", 1).find(), "having.. needs group_by"),
        (lambda q: q.group_by("id").sum("articles.words"), "grouped query"),
        (lambda q: q.update({"name": "X"}), "joined or grouped"),
        (lambda q: q.delete(), "joined or grouped"),
    ],
)
async def test_bad_names_and_writes_are_refused_before_any_sql(
    s: orm.Session, call: Any, message: str
) -> None:
    with orm.count_queries() as counted, pytest.raises(orm.ORMError, match=message):
        await call(s.model(Writer).join(Article))
    assert counted.count == 0
    assert await s.model(Writer).count() == 4  # nothing else happened


async def test_argument_mistakes_are_value_errors(s: orm.Session) -> None:
    q = s.model(Writer)
    with pytest.raises(ValueError, match=r"1 '\?' but 0 values"):
        q.join(Article, "articles.words > ?")
    with pytest.raises(ValueError, match="no on= condition"):
        q.join(Article, None, 5)
    with pytest.raises(ValueError, match="model class"):
        q.join("Article")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model first"):
        s.where("1 = 1").join(Article)
    with pytest.raises(ValueError, match="column names"):
        q.group_by()
    with pytest.raises(ValueError, match="SQL condition"):
        q.group_by("id").having(" ")
