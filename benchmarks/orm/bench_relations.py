"""GeeORM relations benchmark (issue 19): 1,000 users with 10 posts each, loaded with
their posts — geetrio's ``preload("posts")`` against peewee's ``prefetch`` and
SQLAlchemy 2's ``selectinload`` — and a filtered aggregate over all 10,000 posts.

Same sqlite file for everyone (built once: WAL, synchronous=NORMAL), a full garbage
collection before each run, the process pinned to one CPU, 5 interleaved rounds,
medians (seconds) and ratios. Target: no slower than either.

    python benchmarks/orm/bench_relations.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
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

USERS, POSTS_EACH = 1_000, 10


@dataclass
class Author:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    posts: list[Article] = orm.has_many("author_id")


@dataclass
class Article:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    author_id: int = orm.foreign_key(Author, default=0)
    title: str = ""
    words: int = 0


def build(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute('CREATE TABLE "Author" ("id" INTEGER PRIMARY KEY, "name" TEXT)')
    conn.execute(
        'CREATE TABLE "Article" ("id" INTEGER PRIMARY KEY, "author_id" INTEGER '
        'REFERENCES "Author" ("id"), "title" TEXT, "words" INTEGER)'
    )
    conn.executemany(
        'INSERT INTO "Author" VALUES (?, ?)', [(i, f"user{i}") for i in range(1, USERS + 1)]
    )
    conn.executemany(
        'INSERT INTO "Article" VALUES (?, ?, ?, ?)',
        [
            (u * POSTS_EACH + p, u, f"post {p}", (u * 31 + p * 7) % 1000)
            for u in range(1, USERS + 1)
            for p in range(POSTS_EACH)
        ],
    )
    conn.execute('CREATE INDEX "article_author" ON "Article" ("author_id")')
    conn.commit()
    conn.close()


def geetrio(path: Path, workload: str) -> float:
    async def run() -> float:
        async with orm.open("sqlite3", path) as engine:
            s = engine.new_session()
            started = time.perf_counter()
            if workload == "preload":
                users = await s.model(Author).preload("posts").find()
                assert sum(len(u.posts) for u in users) == USERS * POSTS_EACH
            else:
                assert await s.model(Article).where("words > ?", 500).sum("words")
            return time.perf_counter() - started

    return trio.run(run)


def peewee_orm(path: Path, workload: str) -> float:
    import peewee

    db = peewee.SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "synchronous": 1})

    class PAuthor(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        name = peewee.TextField()

        class Meta:
            database = db
            table_name = "Author"

    class PArticle(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        author = peewee.ForeignKeyField(PAuthor, backref="posts", column_name="author_id")
        title = peewee.TextField()
        words = peewee.IntegerField()

        class Meta:
            database = db
            table_name = "Article"

    db.connect()
    started = time.perf_counter()
    if workload == "preload":
        users = peewee.prefetch(PAuthor.select(), PArticle.select())
        assert sum(len(u.posts) for u in users) == USERS * POSTS_EACH
    else:
        assert PArticle.select(peewee.fn.SUM(PArticle.words)).where(PArticle.words > 500).scalar()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def sqlalchemy_orm(path: Path, workload: str) -> float:

    class Base(DeclarativeBase):
        pass

    class SAuthor(Base):
        __tablename__ = "Author"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        posts: Mapped[list[SArticle]] = relationship()

    class SArticle(Base):
        __tablename__ = "Article"
        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("Author.id"))
        title: Mapped[str]
        words: Mapped[int]

    engine = create_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    with Session(engine) as session:
        if workload == "preload":
            users = session.scalars(select(SAuthor).options(selectinload(SAuthor.posts))).all()
            assert sum(len(u.posts) for u in users) == USERS * POSTS_EACH
        else:
            query = select(func.sum(SArticle.words)).where(SArticle.words > 500)
            assert session.scalar(query)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


CONTENDERS = {"geetrio": geetrio, "peewee": peewee_orm, "SQLAlchemy ORM": sqlalchemy_orm}
WORKLOADS = {
    "preload": f"{USERS:,} users with their {POSTS_EACH} posts each",
    "aggregate": f"SUM over {USERS * POSTS_EACH:,} posts with a filter",
}


def timed(timer: Any, path: Path, workload: str) -> float:
    gc.collect()
    return float(timer(path, workload))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pin(0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "relations.db"
        build(path)
        print(f"GeeORM relations on sqlite: {args.rounds} interleaved rounds, medians")
        for workload, title in WORKLOADS.items():
            runs = interleaved(
                [
                    (name, lambda timer=timer, workload=workload: timed(timer, path, workload))
                    for name, timer in CONTENDERS.items()
                ],
                args.rounds,
            )
            medians = {name: statistics.median(times) for name, times in runs.items()}
            ours = medians["geetrio"]
            print(f"  {title}:")
            for name, seconds in medians.items():
                ratio = (
                    "" if name == "geetrio" else f"   geetrio / {name}: {ours / seconds:.2f}x time"
                )
                print(f"    {name:15} {seconds * 1000:8.1f} ms{ratio}")
            slower = [n for n, s in medians.items() if n != "geetrio" and ours > s]
            verdict = "meets" if not slower else f"MISSES (slower than {', '.join(slower)})"
            print(f"    target: no slower than either -> {verdict}")


if __name__ == "__main__":
    main()
