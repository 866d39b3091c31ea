"""Day 4 — chained queries: where, order_by, limit, first, update, delete, count.
Each call returns a new query, so a query can be reused and nothing leaks.

    python examples/orm/day4_chain_operation.py
"""

import trio
from _common import User, fresh_db

from geetrio import orm


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await s.model(User).create_table()
        await s.insert(User("Tom", 18), User("Sam", 25), User("Jack", 25), User("Ann", 31))
        adults = s.model(User).where("age > ?", 20)  # reusable
        print(f"count of age > 20: {await adults.count()}")
        print(f"ordered, limit 2: {await adults.order_by('age DESC, name').limit(2).find()}")
        print(f"first Tom: {await s.where('name = ?', 'Tom').first(User)}")
        print(f"updated: {await s.model(User).where('name = ?', 'Tom').update({'age': 30})}")
        print(f"deleted: {await s.model(User).where('age < ?', 26).delete()}")
        print(f"left: {await s.model(User).order_by('name').find()}")
        try:
            await s.where("name = ?", "Nobody").first(User)
        except orm.NotFound as exc:
            print(f"NotFound: {exc}")


if __name__ == "__main__":
    trio.run(main)
