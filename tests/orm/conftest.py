"""ORM fixtures: ``engine`` runs each test on both dialects — a sqlite file, and a fresh
schema of the private PostgreSQL server of the run (``postgres_server``, tests/conftest.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from geetrio import orm


@dataclass
class User:
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0


_schemas = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections work in a schema of their own, dropped afterwards."""
    import psycopg

    schema = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_server}?options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite3", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(driver, path) of an empty database of each dialect."""
    if request.param == "sqlite3":
        return "sqlite3", str(tmp_path / "gee.db")
    return "postgresql", request.getfixturevalue("postgres_url")


@pytest.fixture
async def engine(database: tuple[str, str]) -> AsyncIterator[orm.Engine]:
    async with orm.open(*database) as engine:
        s = engine.new_session()
        await s.model(User).create_table()
        yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[orm.Engine]:
    """For what only sqlite has: its file locks, pragmas and rebuilds."""
    async with orm.open("sqlite3", tmp_path / "gee.db") as engine:
        await engine.new_session().model(User).create_table()
        yield engine
