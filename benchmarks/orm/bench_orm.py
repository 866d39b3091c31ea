"""ORM benchmark: geetrio.orm vs raw sqlite3 vs peewee vs SQLAlchemy 2 ORM, side by side.

Same sqlite settings for everyone (a new file in a temporary directory per run, WAL,
synchronous=NORMAL), the process pinned to one CPU, median of 5 interleaved rounds
(every contender once per round, in turn), seconds:

1. insert 10,000 rows one by one, in one transaction
2. bulk insert 10,000 rows
3. select all 10,000 rows into objects
4. 2,000 selects by primary key (in one transaction)
5. 2,000 single-row updates by primary key (in one transaction)

"raw+to_thread" is raw sqlite3 with every statement sent through its own
``trio.to_thread.run_sync``: the price of the rule "sqlite only in worker threads".

    python benchmarks/orm/bench_orm.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import interleaved

N_ROWS = 10_000
N_LOOKUPS = 2_000
WORKLOADS = ["insert one by one", "bulk insert", "select all", "2,000 by pk", "2,000 updates"]
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


@dataclass
class User:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    name: str = ""
    age: int = 0


ROWS = [(i, f"user{i}", i % 90) for i in range(1, N_ROWS + 1)]
KEYS = [1 + (i * 7919) % N_ROWS for i in range(N_LOOKUPS)]  # spread, deterministic

Timer = Callable[[Path, str], float]  # (database file, workload) -> seconds


def _prepared(path: Path, workload: str) -> bool:
    """Workloads 3-5 read or change existing rows; the file gets them untimed."""
    return workload not in ("insert one by one", "bulk insert")


def _seed(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute('CREATE TABLE "User" ("id" integer PRIMARY KEY, "name" text, "age" integer)')
    conn.execute("BEGIN")
    conn.executemany('INSERT INTO "User" VALUES (?, ?, ?)', ROWS)
    conn.execute("COMMIT")
    conn.close()


# --------------------------------------------------------------------------- raw


def raw(path: Path, workload: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    if not _prepared(path, workload):
        conn.execute('CREATE TABLE "User" ("id" integer PRIMARY KEY, "name" text, "age" integer)')
    insert = 'INSERT INTO "User" VALUES (?, ?, ?)'
    started = time.perf_counter()
    if workload == "insert one by one":
        conn.execute("BEGIN")
        for row in ROWS:
            conn.execute(insert, row)
        conn.execute("COMMIT")
    elif workload == "bulk insert":
        conn.execute("BEGIN")
        conn.executemany(insert, ROWS)
        conn.execute("COMMIT")
    elif workload == "select all":
        [User(*r) for r in conn.execute('SELECT "id", "name", "age" FROM "User"').fetchall()]
    elif workload == "2,000 by pk":
        conn.execute("BEGIN")
        for key in KEYS:
            User(
                *conn.execute(
                    'SELECT "id", "name", "age" FROM "User" WHERE id = ?', (key,)
                ).fetchone()
            )
        conn.execute("COMMIT")
    else:
        conn.execute("BEGIN")
        for key in KEYS:
            conn.execute('UPDATE "User" SET "age" = ? WHERE id = ?', (key + 1, key))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_to_thread(path: Path, workload: str) -> float:
    if workload in ("bulk insert", "select all"):
        return float("nan")  # one statement either way: nothing to compare

    async def run() -> float:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            conn.execute(pragma)
        if not _prepared(path, workload):
            conn.execute(
                'CREATE TABLE "User" ("id" integer PRIMARY KEY, "name" text, "age" integer)'
            )
        limiter = trio.CapacityLimiter(1)

        async def hop(sql: str, params: tuple[object, ...] = ()) -> object:
            return await trio.to_thread.run_sync(
                lambda: conn.execute(sql, params).fetchone(), limiter=limiter
            )

        started = time.perf_counter()
        await hop("BEGIN")
        if workload == "insert one by one":
            for row in ROWS:
                await hop('INSERT INTO "User" VALUES (?, ?, ?)', row)
        elif workload == "2,000 by pk":
            for key in KEYS:
                await hop('SELECT "id", "name", "age" FROM "User" WHERE id = ?', (key,))
        else:
            for key in KEYS:
                await hop('UPDATE "User" SET "age" = ? WHERE id = ?', (key + 1, key))
        await hop("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
        return elapsed

    return trio.run(run)


# --------------------------------------------------------------------------- geetrio


async def geetrio_workload(engine: Any, workload: str) -> float:
    """One workload on an open ``orm.Engine`` (either dialect); seconds."""
    from geetrio import orm

    s = engine.new_session()
    users = [User(*row) for row in ROWS] if workload == "bulk insert" else []
    started = time.perf_counter()  # input ready, as the others' tuples and dicts are
    if workload == "insert one by one":

        async def one_by_one(t: orm.Session) -> None:
            for row in ROWS:
                await t.insert(User(*row))

        await engine.transaction(one_by_one)
    elif workload == "bulk insert":
        await s.insert(*users)
    elif workload == "select all":
        await s.model(User).find()
    elif workload == "2,000 by pk":

        async def by_pk(t: orm.Session) -> None:
            for key in KEYS:
                await t.model(User).where("id = ?", key).first()

        await engine.transaction(by_pk)
    else:

        async def updates(t: orm.Session) -> None:
            for key in KEYS:
                await t.model(User).where("id = ?", key).update({"age": key + 1})

        await engine.transaction(updates)
    return time.perf_counter() - started


def geetrio(path: Path, workload: str) -> float:
    from geetrio import orm

    async def run() -> float:
        async with orm.open("sqlite3", path) as engine:
            if not _prepared(path, workload):
                await engine.new_session().model(User).create_table()
            return await geetrio_workload(engine, workload)

    return trio.run(run)


# --------------------------------------------------------------------------- peewee


def peewee_orm(path: Path, workload: str) -> float:
    import peewee

    db = peewee.SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "synchronous": 1})
    return peewee_workload(db, workload, create=not _prepared(path, workload))


def peewee_workload(db: Any, workload: str, *, create: bool = False) -> float:
    """One workload through peewee on ``db`` (either dialect); seconds."""
    import peewee

    class PUser(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        name = peewee.TextField()
        age = peewee.IntegerField()

        class Meta:
            database = db
            table_name = "User"

    db.connect()
    if create:
        db.create_tables([PUser])
    started = time.perf_counter()
    if workload == "insert one by one":
        with db.atomic():
            for i, name, age in ROWS:
                PUser.create(id=i, name=name, age=age)
    elif workload == "bulk insert":
        with db.atomic():
            for batch in peewee.chunked(ROWS, 1000):
                PUser.insert_many(batch, fields=[PUser.id, PUser.name, PUser.age]).execute()
    elif workload == "select all":
        list(PUser.select())
    elif workload == "2,000 by pk":
        with db.atomic():
            for key in KEYS:
                PUser.get_by_id(key)
    else:
        with db.atomic():
            for key in KEYS:
                PUser.update(age=key + 1).where(PUser.id == key).execute()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


# --------------------------------------------------------------------------- SQLAlchemy


def sqlalchemy_model() -> tuple[Any, Any]:
    """A fresh declarative base and its ``User`` mapping (new metadata per run)."""

    class Base(DeclarativeBase):
        pass

    class SUser(Base):
        __tablename__ = "User"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        age: Mapped[int]

    return Base, SUser


def sqlalchemy_workload(engine: Any, SUser: Any, workload: str) -> float:
    """One workload through a SQLAlchemy ORM session on ``engine``; seconds."""
    from sqlalchemy import insert, select, update

    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        if workload == "insert one by one":
            for i, name, age in ROWS:
                session.add(SUser(id=i, name=name, age=age))
                session.flush()
        elif workload == "bulk insert":
            session.execute(insert(SUser), [{"id": i, "name": n, "age": a} for i, n, a in ROWS])
        elif workload == "select all":
            session.scalars(select(SUser)).all()
        elif workload == "2,000 by pk":
            for key in KEYS:
                session.get(SUser, key)
        else:
            for key in KEYS:
                session.execute(update(SUser).where(SUser.id == key).values(age=key + 1))
    return time.perf_counter() - started


def sqlalchemy_orm(path: Path, workload: str) -> float:
    from sqlalchemy import create_engine, event

    base, user = sqlalchemy_model()
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def set_pragmas(conn, _record):  # type: ignore[no-untyped-def]
        for pragma in PRAGMAS:
            conn.execute(pragma)

    if not _prepared(path, workload):
        base.metadata.create_all(engine)
    elapsed = sqlalchemy_workload(engine, user, workload)
    engine.dispose()
    return elapsed


CONTENDERS: dict[str, Timer] = {
    "raw sqlite3": raw,
    "raw+to_thread": raw_to_thread,
    "geetrio": geetrio,
    "peewee": peewee_orm,
    "SQLAlchemy ORM": sqlalchemy_orm,
}


def run_once(timer: Timer, workload: str) -> float:
    gc.collect()  # every contender starts from a clean heap: no collection left pending
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        if _prepared(path, workload):
            _seed(path)
        return timer(path, workload)


def measure_all(workload: str, repeat: int) -> dict[str, float]:
    """Every contender once per round, in turn (interleaved); the median of each."""
    runs = interleaved(
        [(name, partial(run_once, timer, workload)) for name, timer in CONTENDERS.items()],
        repeat,
    )
    return {name: statistics.median(times) for name, times in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    settings = "sqlite file, WAL, synchronous=NORMAL, one CPU"
    print(f"ORM benchmark: {settings}, median of {args.repeat} (seconds)")
    header = f"  {'workload':20}" + "".join(f"{name:>16}" for name in CONTENDERS)
    print(header)
    table: dict[str, dict[str, float]] = {}
    for workload in WORKLOADS:
        table[workload] = measure_all(workload, args.repeat)
        cells = "".join(f"{'-':>16}" if t != t else f"{t:16.4f}" for t in table[workload].values())
        print(f"  {workload:20}{cells}", flush=True)
    print("\nratios (geetrio time / other time; below 1.0 = geetrio faster):")
    for workload, times in table.items():
        ours = times["geetrio"]
        line = f"  {workload:20} vs raw {ours / times['raw sqlite3']:5.2f}x"
        line += f"   vs peewee {ours / times['peewee']:5.2f}x"
        line += f"   vs SQLAlchemy {ours / times['SQLAlchemy ORM']:5.2f}x"
        verdict = ours <= times["peewee"] and ours <= times["SQLAlchemy ORM"]
        if workload in ("bulk insert", "select all"):
            verdict = verdict and ours <= 1.5 * times["raw sqlite3"]
            line += "   (targets: <= 1.5x raw, <= peewee, <= SQLAlchemy: "
        else:
            line += "   (targets: <= peewee, <= SQLAlchemy: "
        print(line + ("met)" if verdict else "MISSED)"))


if __name__ == "__main__":
    main()
