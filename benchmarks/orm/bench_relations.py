"""GeeORM relations benchmark (issue 19), on sqlite and PostgreSQL: geetrio against
peewee and SQLAlchemy 2's ORM, side by side, over 10,000 authors with 10 articles each.

1. preload: 1,000 authors loaded with their 10 articles each — geetrio's
   ``preload("posts")``, peewee's ``prefetch``, SQLAlchemy's ``selectinload``
2. aggregate: ``SUM(words)`` of the 100,000 articles with a filter
3. join + GROUP BY: per author, the count and sum of words of their articles with a
   filter — a join over the 100,000 articles, 10,000 groups read as tuples

Same database for everyone (built once: sqlite in WAL with synchronous=NORMAL; a private
PostgreSQL server on loopback, ``fsync=off``), connections open before the clock starts,
a full garbage collection before each run, the client pinned to one CPU, interleaved
rounds, medians and ratios. Target: no slower than either.

    python benchmarks/orm/bench_relations.py [--rounds 5] [--dialect sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from sqlalchemy import ForeignKey, create_engine, func, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import interleaved, pin
from geetrio import orm

AUTHORS, POSTS_EACH, PRELOADED = 10_000, 10, 1_000
WORDS_OVER = 500


@dataclass
class Author:
    __tablename__ = "authors"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    posts: list[Article] = orm.has_many("author_id")


@dataclass
class Article:
    __tablename__ = "articles"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author_id: int = orm.foreign_key(Author, default=0)
    title: str = ""
    words: int = 0


AUTHOR_ROWS = [(i, f"user{i}") for i in range(1, AUTHORS + 1)]
ARTICLE_ROWS = [
    (u * POSTS_EACH + p, u, f"post {p}", (u * 31 + p * 7) % 1000)
    for u in range(1, AUTHORS + 1)
    for p in range(POSTS_EACH)
]
SCHEMA = [
    "CREATE TABLE authors (id bigint PRIMARY KEY, name text)",
    "CREATE TABLE articles (id bigint PRIMARY KEY, author_id bigint REFERENCES authors (id),"
    " title text, words bigint)",
    "CREATE INDEX articles_author ON articles (author_id)",
]


@dataclass(frozen=True)
class Target:
    dialect: str  # sqlite3 | postgresql
    where: str  # file path or URL


def build(target: Target) -> None:
    if target.dialect == "sqlite3":
        conn = sqlite3.connect(target.where)
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            conn.execute(statement.replace("bigint PRIMARY KEY", "INTEGER PRIMARY KEY"))
        conn.executemany("INSERT INTO authors VALUES (?, ?)", AUTHOR_ROWS)
        conn.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", ARTICLE_ROWS)
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(target.where, autocommit=True) as conn:
        for statement in SCHEMA:
            conn.execute(statement)
        with conn.cursor() as cursor:
            with cursor.copy("COPY authors FROM STDIN") as copy:
                for row in AUTHOR_ROWS:
                    copy.write_row(row)
            with cursor.copy("COPY articles FROM STDIN") as copy:
                for row in ARTICLE_ROWS:
                    copy.write_row(row)
        conn.execute("VACUUM ANALYZE")


def check(workload: str, result: Any) -> None:
    """Every contender must have read the same thing."""
    if workload == "preload":
        assert len(result) == PRELOADED
        assert sum(len(posts) for posts in result) == PRELOADED * POSTS_EACH
    elif workload == "aggregate":
        assert int(result) == sum(r[3] for r in ARTICLE_ROWS if r[3] > WORDS_OVER)
    else:
        assert len(result) == len({r[1] for r in ARTICLE_ROWS if r[3] > WORDS_OVER})
        assert sum(int(r[2]) for r in result) == sum(
            r[3] for r in ARTICLE_ROWS if r[3] > WORDS_OVER
        )


def geetrio(target: Target, workload: str) -> float:
    async def run() -> float:
        options = {"pool_size": 1} if target.dialect == "postgresql" else {}
        async with orm.open(target.dialect, target.where, **options) as engine:
            s = engine.new_session()
            started = time.perf_counter()
            if workload == "preload":
                q = s.model(Author).where("id <= ?", PRELOADED).preload("posts")
                result: Any = [u.posts for u in await q.find()]
            elif workload == "aggregate":
                result = await s.model(Article).where("words > ?", WORDS_OVER).sum("words")
            else:
                q = s.model(Author).join(Article).where("articles.words > ?", WORDS_OVER)
                q = q.group_by("id", "name")
                result = await q.values("name", "count(*)", "sum(articles.words)")
            elapsed = time.perf_counter() - started
            check(workload, result)
            return elapsed

    return trio.run(run)


def peewee_orm(target: Target, workload: str) -> float:
    import peewee
    from playhouse.db_url import connect

    if target.dialect == "sqlite3":
        pragmas = {"journal_mode": "wal", "synchronous": 1}
        db: Any = peewee.SqliteDatabase(target.where, pragmas=pragmas)
    else:
        db = connect(target.where)

    class PAuthor(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        name = peewee.TextField()

        class Meta:
            database = db
            table_name = "authors"

    class PArticle(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        author = peewee.ForeignKeyField(PAuthor, backref="posts", column_name="author_id")
        title = peewee.TextField()
        words = peewee.IntegerField()

        class Meta:
            database = db
            table_name = "articles"

    db.connect()
    started = time.perf_counter()
    if workload == "preload":
        authors = PAuthor.select().where(PAuthor.id <= PRELOADED)
        result: Any = [u.posts for u in peewee.prefetch(authors, PArticle.select())]
    elif workload == "aggregate":
        result = (
            PArticle.select(peewee.fn.SUM(PArticle.words))
            .where(PArticle.words > WORDS_OVER)
            .scalar()
        )
    else:
        result = list(
            PAuthor.select(
                PAuthor.name, peewee.fn.COUNT(PArticle.id), peewee.fn.SUM(PArticle.words)
            )
            .join(PArticle)
            .where(PArticle.words > WORDS_OVER)
            .group_by(PAuthor.id, PAuthor.name)
            .tuples()
        )
    elapsed = time.perf_counter() - started
    db.close()
    check(workload, result)
    return elapsed


def sqlalchemy_orm(target: Target, workload: str) -> float:

    class Base(DeclarativeBase):
        pass

    class SAuthor(Base):
        __tablename__ = "authors"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        posts: Mapped[list[SArticle]] = relationship()

    class SArticle(Base):
        __tablename__ = "articles"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
        title: Mapped[str]
        words: Mapped[int]

    if target.dialect == "sqlite3":
        url = f"sqlite:///{target.where}"
    else:
        url = target.where.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    engine.connect().close()  # the pool holds an open connection, as the others do
    started = time.perf_counter()
    with Session(engine) as session:
        if workload == "preload":
            query = (
                select(SAuthor).where(SAuthor.id <= PRELOADED).options(selectinload(SAuthor.posts))
            )
            result: Any = [u.posts for u in session.scalars(query).all()]
        elif workload == "aggregate":
            result = session.scalar(
                select(func.sum(SArticle.words)).where(SArticle.words > WORDS_OVER)
            )
        else:
            query = (
                select(SAuthor.name, func.count(), func.sum(SArticle.words))
                .join(SAuthor.posts)
                .where(SArticle.words > WORDS_OVER)
                .group_by(SAuthor.id, SAuthor.name)
            )
            result = session.execute(query).all()
    elapsed = time.perf_counter() - started
    engine.dispose()
    check(workload, result)
    return elapsed


CONTENDERS: dict[str, Callable[[Target, str], float]] = {
    "geetrio": geetrio,
    "peewee": peewee_orm,
    "SQLAlchemy ORM": sqlalchemy_orm,
}
WORKLOADS = {
    "preload": f"{PRELOADED:,} authors with their {POSTS_EACH} articles each",
    "aggregate": f"SUM over {len(ARTICLE_ROWS):,} articles with a filter",
    "join": f"join + filter + GROUP BY over {len(ARTICLE_ROWS):,} articles",
}


def timed(timer: Callable[[Target, str], float], target: Target, workload: str) -> float:
    gc.collect()
    return timer(target, workload)


def report(target: Target, rounds: int) -> None:
    build(target)
    print(f"GeeORM relations on {target.dialect}: {rounds} interleaved rounds, medians")
    for workload, title in WORKLOADS.items():
        runs = interleaved(
            [
                (name, lambda timer=timer, workload=workload: timed(timer, target, workload))
                for name, timer in CONTENDERS.items()
            ],
            rounds,
        )
        medians = {name: statistics.median(times) for name, times in runs.items()}
        ours = medians["geetrio"]
        print(f"  {title}:")
        for name, seconds in medians.items():
            ratio = "" if name == "geetrio" else f"   geetrio / {name}: {ours / seconds:.2f}x time"
            print(f"    {name:15} {seconds * 1000:8.1f} ms{ratio}")
        slower = [n for n, s in medians.items() if n != "geetrio" and ours > s]
        verdict = "meets" if not slower else f"MISSES (slower than {', '.join(slower)})"
        print(f"    target: no slower than either -> {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dialect", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.dialect in ("sqlite", "both"):
        pin(0)
        with tempfile.TemporaryDirectory() as folder:
            report(Target("sqlite3", str(Path(folder) / "relations.db")), args.rounds)
    if args.dialect in ("postgresql", "both"):
        from tests.pg import private_postgres

        with private_postgres() as url:
            pin(1)  # the server has the other CPU
            report(Target("postgresql", url), args.rounds)


if __name__ == "__main__":
    main()
