"""``servers/cache_node.py --db``: a database it creates is seeded, any other only read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from geetrio import orm
from servers.loading import load_file

ROOT = Path(__file__).resolve().parents[2]


cache_node = load_file("servers/cache_node.py", "cache_node")  # as dataclasses look it up


async def test_a_database_it_creates_gets_the_demo_rows(tmp_path: Path) -> None:
    async with orm.open("sqlite3", tmp_path / "new.db") as engine:
        load = await cache_node.orm_loader(engine, created=True)
        assert await load("Tom") == b"630"
        again = await cache_node.orm_loader(engine, created=True)  # a second node: no dupes
        assert await again("Sam") == b"567"
        assert await engine.new_session().model(cache_node.Score).count() == len(
            cache_node.DEMO_SCORES
        )


async def test_an_existing_database_is_only_read(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "scores" ("name" text PRIMARY KEY, "score" integer)')
        conn.execute("INSERT INTO scores VALUES ('Zed', 1)")
    conn.close()
    async with orm.open("sqlite3", path) as engine:
        load = await cache_node.orm_loader(engine, created=False)
        assert await load("Zed") == b"1"
        with pytest.raises(cache_node.NotFoundError):
            await load("Tom")  # no demo rows were added
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM scores").fetchone() == (1,)
    conn.close()


async def test_an_existing_database_without_the_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    async with orm.open("sqlite3", path) as engine:
        with pytest.raises(cache_node.NoScoresTable, match="no scores table"):
            await cache_node.orm_loader(engine, created=False)
        assert not await engine.new_session().model(cache_node.Score).has_table()


async def test_a_key_cannot_forge_slow_db_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.INFO)
    load = cache_node.memory_loader()
    with pytest.raises(cache_node.NotFoundError):
        await load("x\n2026-12-06 12:00:00 cache_node [SlowDB] forged" + "k" * 10_000)
    (line,) = [r.getMessage() for r in caplog.records if "SlowDB" in r.getMessage()]
    assert "\n" not in line and len(line) < 400
