"""Day 5 — hooks: methods on the model, sync or async, called around statements.

python examples/orm/day5_hooks.py
"""

from dataclasses import dataclass, field

import trio
from _common import fresh_db

from geetrio import orm


@dataclass
class Account:
    id: int = field(default=0, metadata={"geeorm": "PRIMARY KEY"})
    password: str = ""

    def before_insert(self, session: orm.Session) -> None:
        print(f"before insert {self.id}: hashing the password")
        self.password = "#" * len(self.password)

    async def after_query(self, session: orm.Session) -> None:
        print(f"after query {self.id}: hiding the password")
        self.password = "******"

    @classmethod
    def before_delete(cls, session: orm.Session) -> None:
        print("before delete: the audit log would note it here")


async def main() -> None:
    async with orm.open("sqlite3", fresh_db()) as engine:
        s = engine.new_session()
        await s.model(Account).create_table()
        await s.insert(Account(1, "123456"), Account(2, "qwerty"))
        print(f"stored: {await s.raw('SELECT id, password FROM Account').query_rows()}")
        print(f"found: {await s.model(Account).find()}")
        await s.model(Account).where("id = ?", 2).delete()


if __name__ == "__main__":
    trio.run(main)
