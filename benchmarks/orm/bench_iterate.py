"""Iterating 1,000,000 rows into objects (issue 19), on sqlite and PostgreSQL: geetrio's
``iterate()`` against SQLAlchemy 2's ``yield_per``, peewee's ``iterator()`` and the raw
driver streaming tuples (sqlite3's cursor; a psycopg server-side cursor), side by side.

Each run is a process of its own (so one contender's heap cannot count against the next):
it opens its connection, then iterates every row into an object and sums one field;
reported are the time of that loop and the resident memory it added (peak RSS during the
loop minus RSS before it; the peak is reset through ``/proc/self/clear_refs``). Pinned to
one CPU, interleaved rounds, medians of time, the largest memory growth. Targets: RSS
growth < 50 MB; time no more than SQLAlchemy's ``yield_per``.

    python benchmarks/orm/bench_iterate.py [--rounds 3] [--dialect sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.common import interleaved, pin
from geetrio import orm

ROWS, BATCH = 1_000_000, 1_000
TOTAL = sum(i % 1000 for i in range(1, ROWS + 1))
MB = 1 << 20


@dataclass
class Event:
    __tablename__ = "events"
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    kind: str = ""
    value: int = 0


def rows() -> Iterator[tuple[int, str, int]]:
    return ((i, f"kind {i % 7}", i % 1000) for i in range(1, ROWS + 1))


def build(dialect: str, where: str) -> None:
    create = "CREATE TABLE events (id {} PRIMARY KEY, kind text, value bigint)"
    if dialect == "sqlite3":
        conn = sqlite3.connect(where)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(create.format("INTEGER"))
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", rows())
        conn.commit()
        conn.close()
        return
    import psycopg

    with psycopg.connect(where, autocommit=True) as conn:
        conn.execute(create.format("bigint"))
        with conn.cursor() as cursor, cursor.copy("COPY events FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        conn.execute("VACUUM ANALYZE events")


# ------------------------------------------------------------------ one run, in a child


def _status(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name} in /proc/self/status")


class Meter:
    """Time and resident memory added between ``start`` and ``stop``."""

    def start(self) -> None:
        Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) := now
        self.rss = _status("VmRSS")
        self.started = time.perf_counter()

    def stop(self, total: int) -> dict[str, float]:
        elapsed = time.perf_counter() - self.started
        assert total == TOTAL, (total, TOTAL)
        return {"seconds": elapsed, "rss_growth": _status("VmHWM") - self.rss}


def geetrio(dialect: str, where: str, meter: Meter) -> dict[str, float]:
    async def run() -> dict[str, float]:
        options = {"pool_size": 1} if dialect == "postgresql" else {}
        async with orm.open(dialect, where, **options) as engine:
            s = engine.new_session()
            await s.model(Event).exists()  # the connection is open, as the others'
            meter.start()
            total = 0
            async for event in s.model(Event).iterate(batch=BATCH):
                total += event.value
            return meter.stop(total)

    return trio.run(run)


def sqlalchemy_orm(dialect: str, where: str, meter: Meter) -> dict[str, float]:

    class Base(DeclarativeBase):
        pass

    class SEvent(Base):
        __tablename__ = "events"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        value: Mapped[int]

    if dialect == "sqlite3":
        url = f"sqlite:///{where}"
    else:
        url = where.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    engine.connect().close()
    with Session(engine) as session:
        meter.start()
        total = 0
        for event in session.scalars(select(SEvent).execution_options(yield_per=BATCH)):
            total += event.value
        result = meter.stop(total)
    engine.dispose()
    return result


def peewee_orm(dialect: str, where: str, meter: Meter) -> dict[str, float]:
    import peewee
    from playhouse.db_url import connect

    db: Any = peewee.SqliteDatabase(where) if dialect == "sqlite3" else connect(where)

    class PEvent(peewee.Model):
        id = peewee.IntegerField(primary_key=True)
        kind = peewee.TextField()
        value = peewee.IntegerField()

        class Meta:
            database = db
            table_name = "events"

    db.connect()
    meter.start()
    total = 0
    for event in PEvent.select().iterator():
        total += event.value
    result = meter.stop(total)
    db.close()
    return result


def raw(dialect: str, where: str, meter: Meter) -> dict[str, float]:
    total = 0
    if dialect == "sqlite3":
        conn = sqlite3.connect(where)
        meter.start()
        for row in conn.execute("SELECT id, kind, value FROM events"):
            total += row[2]
        conn.close()
        return meter.stop(total)
    import psycopg

    with psycopg.connect(where) as conn:
        meter.start()
        with conn.cursor(name="events") as cursor:  # server-side
            cursor.itersize = BATCH
            cursor.execute("SELECT id, kind, value FROM events")
            for row in cursor:
                total += row[2]
        return meter.stop(total)


CONTENDERS: dict[str, Callable[[str, str, Meter], dict[str, float]]] = {
    "geetrio": geetrio,
    "SQLAlchemy ORM": sqlalchemy_orm,
    "peewee": peewee_orm,
    "raw driver": raw,
}


# ------------------------------------------------------------------ the parent


def child(name: str, dialect: str, where: str, cpu: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", name, dialect, where, str(cpu)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(dialect: str, where: str, rounds: int, cpu: int) -> None:
    build(dialect, where)
    print(f"Iterating {ROWS:,} rows on {dialect}: {rounds} interleaved rounds, one process each")
    runs = interleaved(
        [
            (name, lambda name=name: child(name, dialect, where, cpu))  # type: ignore[misc]
            for name in CONTENDERS
        ],
        rounds,
    )
    seconds = {
        name: statistics.median(r["seconds"] for r in results) for name, results in runs.items()
    }
    growth = {name: max(r["rss_growth"] for r in results) for name, results in runs.items()}
    ours = seconds["geetrio"]
    for name in CONTENDERS:
        ratio = (
            "" if name == "geetrio" else f"   geetrio / {name}: {ours / seconds[name]:.2f}x time"
        )
        print(f"    {name:15} {seconds[name]:7.2f} s   RSS +{growth[name] / MB:6.1f} MB{ratio}")
    met = growth["geetrio"] < 50 * MB and ours <= seconds["SQLAlchemy ORM"]
    verdict = "meets" if met else "MISSES"
    print(f"    targets: RSS growth < 50 MB, time <= SQLAlchemy yield_per -> {verdict}", flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        name, dialect, where, cpu = sys.argv[2:6]
        pin(int(cpu))
        print(json.dumps(CONTENDERS[name](dialect, where, Meter())))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dialect", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.dialect in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            report("sqlite3", str(Path(folder) / "events.db"), args.rounds, cpu=0)
    if args.dialect in ("postgresql", "both"):
        from tests.pg import private_postgres

        pin(0)  # the server's CPU; each client runs on the other
        with private_postgres() as url:
            report("postgresql", url, args.rounds, cpu=1)


if __name__ == "__main__":
    main()
