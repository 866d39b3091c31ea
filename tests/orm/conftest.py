from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geetrio import orm


@dataclass
class User:
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[orm.Engine]:
    async with orm.open("sqlite3", tmp_path / "gee.db") as engine:
        s = engine.new_session()
        await s.model(User).create_table()
        yield engine
