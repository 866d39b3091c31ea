"""ORM benchmark on PostgreSQL: geetrio.orm vs SQLAlchemy 2 ORM + psycopg 3 and peewee
(its psycopg 3 adapter), with raw psycopg for reference, side by side on one private
server (Debian's PostgreSQL, started on a free loopback port for the run,
``fsync=off``), the same workloads as ``bench_orm.py``:

1. insert 10,000 rows one by one, in one transaction
2. bulk insert 10,000 rows
3. select all 10,000 rows into objects
4. 2,000 selects by primary key (in one transaction)
5. 2,000 single-row updates by primary key (in one transaction)

The client is pinned to CPU 1 (the server has CPU 0's share of the machine); median of
3 interleaved rounds, each run on a fresh table. Target: no slower than SQLAlchemy or
peewee.

    python benchmarks/orm/bench_orm_pg.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psycopg
import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import interleaved
from benchmarks.orm.bench_orm import (
    KEYS,
    ROWS,
    WORKLOADS,
    User,
    geetrio_workload,
    peewee_workload,
    sqlalchemy_model,
    sqlalchemy_workload,
)
from tests.pg import private_postgres

CREATE = 'CREATE TABLE "User" ("id" bigint PRIMARY KEY, "name" text, "age" bigint)'


Timer = Callable[[str, str], float]  # (URL, workload) -> seconds


def _prepared(workload: str) -> bool:
    return workload not in ("insert one by one", "bulk insert")


def _reset(url: str, workload: str) -> None:
    """A fresh table, with the rows for workloads 3-5 (untimed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('DROP TABLE IF EXISTS "User"')
        conn.execute(CREATE)
        if _prepared(workload):
            with conn.cursor() as cursor:
                cursor.executemany('INSERT INTO "User" VALUES (%s, %s, %s)', ROWS)
        conn.execute('VACUUM ANALYZE "User"')


def raw(url: str, workload: str) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        insert = 'INSERT INTO "User" VALUES (%s, %s, %s)'
        started = time.perf_counter()
        if workload == "select all":
            [User(*r) for r in conn.execute('SELECT "id", "name", "age" FROM "User"').fetchall()]
        elif workload == "bulk insert":
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(insert, ROWS)
        else:
            with conn.transaction():
                if workload == "insert one by one":
                    for row in ROWS:
                        conn.execute(insert, row)
                elif workload == "2,000 by pk":
                    for key in KEYS:
                        select = 'SELECT "id", "name", "age" FROM "User" WHERE id = %s'
                        User(*conn.execute(select, (key,)).fetchone())  # type: ignore[misc]
                else:
                    for key in KEYS:
                        conn.execute('UPDATE "User" SET "age" = %s WHERE id = %s', (key + 1, key))
        return time.perf_counter() - started


def geetrio(url: str, workload: str) -> float:
    from geetrio import orm

    async def run() -> float:
        async with orm.open("postgresql", url, pool_size=1) as engine:
            return await geetrio_workload(engine, workload)

    return trio.run(run)


def sqlalchemy_orm(url: str, workload: str) -> float:
    from sqlalchemy import create_engine

    _, user = sqlalchemy_model()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    elapsed = sqlalchemy_workload(engine, user, workload)
    engine.dispose()
    return elapsed


def peewee_orm(url: str, workload: str) -> float:
    from playhouse.db_url import connect

    return peewee_workload(connect(url), workload)


CONTENDERS: dict[str, Timer] = {
    "raw psycopg": raw,
    "geetrio": geetrio,
    "peewee": peewee_orm,
    "SQLAlchemy ORM": sqlalchemy_orm,
}


def run_once(url: str, timer: Timer, workload: str) -> float:
    _reset(url, workload)
    gc.collect()
    return timer(url, workload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with private_postgres() as url:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {1})
        setting = "private server, loopback"
        print(f"ORM benchmark on PostgreSQL ({setting}), median of {args.repeat} (seconds)")
        print(f"  {'workload':20}" + "".join(f"{name:>16}" for name in CONTENDERS))
        table: dict[str, dict[str, float]] = {}
        for workload in WORKLOADS:
            runs = interleaved(
                [
                    (name, partial(run_once, url, timer, workload))
                    for name, timer in CONTENDERS.items()
                ],
                args.repeat,
            )
            table[workload] = {name: statistics.median(times) for name, times in runs.items()}
            cells = "".join(f"{t:16.4f}" for t in table[workload].values())
            print(f"  {workload:20}{cells}", flush=True)
    print("\nratios (geetrio time / other time; below 1.0 = geetrio faster):")
    for workload, times in table.items():
        ours = times["geetrio"]
        met = ours <= times["SQLAlchemy ORM"] and ours <= times["peewee"]
        print(
            f"  {workload:20} vs raw psycopg {ours / times['raw psycopg']:5.2f}x"
            f"   vs peewee {ours / times['peewee']:5.2f}x"
            f"   vs SQLAlchemy {ours / times['SQLAlchemy ORM']:5.2f}x"
            f"   (target: <= peewee, <= SQLAlchemy: {'met' if met else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
