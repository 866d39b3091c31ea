"""Day 7 — migrate: add new fields, drop removed ones, keep the rows; one transaction.

python examples/orm/day7_migrate.py
"""

from dataclasses import dataclass, field

import trio
from _common import fresh_db

from geetrio import orm


@dataclass
class UserV1:
    __tablename__ = "User"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    age: int = 0


@dataclass
class UserV2:
    __tablename__ = "User"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    xxx: int = 0  # new; the old "age" is gone


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await engine.migrate(UserV1)
        await s.insert(UserV1("Tom", 18), UserV1("Sam", 25))
        await engine.migrate(UserV2)
        columns = [row[1] for row in await s.raw("PRAGMA table_info(User)").query_rows()]
        print(f"columns now: {columns}")
        print(f"rows kept: {await s.model(UserV2).order_by('name').find()}")


if __name__ == "__main__":
    trio.run(main)
