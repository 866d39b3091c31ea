"""Day 3 — insert objects (many rows, one statement) and find them back as objects.

python examples/orm/day3_save_query.py
"""

import trio
from _common import User, fresh_db

from geetrio import orm


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await s.model(User).create_table()
        print(f"inserted {await s.insert(User('Tom', 18), User('Sam', 25))} rows")
        print(f"find: {await s.model(User).find()}")


if __name__ == "__main__":
    trio.run(main)
