"""Day 1 — database/sql basics: raw SQL with parameters, through a worker thread.

python examples/orm/day1_database_sql.py
"""

import trio
from _common import fresh_db

from geetrio import orm


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await s.raw("DROP TABLE IF EXISTS User").exec()
        await s.raw("CREATE TABLE User (Name text)").exec()
        affected = await s.raw("INSERT INTO User (Name) VALUES (?), (?)", "Tom", "Sam").exec()
        print(f"exec success, {affected} affected")
        print(f"query_row: {await s.raw('SELECT Name FROM User LIMIT 1').query_row()}")
        print(f"query_rows: {await s.raw('SELECT Name FROM User').query_rows()}")


if __name__ == "__main__":
    trio.run(main)
