"""Day 6 — transactions: commit on return, roll back on an exception or a cancellation.

python examples/orm/day6_transaction.py
"""

import trio
from _common import User, fresh_db

from geetrio import orm


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await s.model(User).create_table()

        async def fails(tx: orm.Session) -> None:
            await tx.insert(User("Tom", 18))
            raise RuntimeError("something went wrong")

        try:
            await engine.transaction(fails)
        except RuntimeError as exc:
            print(f"rolled back after: {exc}; rows now: {await s.model(User).count()}")

        async def succeeds(tx: orm.Session) -> int:
            await tx.insert(User("Tom", 18), User("Sam", 25))
            return await tx.model(User).count()

        print(f"committed, rows inside: {await engine.transaction(succeeds)}")

        async def slow(tx: orm.Session) -> None:
            await tx.insert(User("Jack", 40))
            await trio.sleep(10)

        with trio.move_on_after(0.1):
            await engine.transaction(slow)
        print(f"cancelled and rolled back; rows: {await s.model(User).count()}")


if __name__ == "__main__":
    trio.run(main)
