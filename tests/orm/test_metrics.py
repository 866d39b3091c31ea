"""The ORM's metrics (issue 20) on both dialects: after a known workload, the scrape
(parsed with ``prometheus_client``'s parser) moved by exactly what it did — statements
by kind and outcome (ok, error, cancelled), their durations, transactions committed
and rolled back."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from geetrio import orm
from tests.helpers import scraped
from tests.orm.conftest import User
from tests.orm.test_hooks_transactions import LONG_QUERY


def moved(before: dict[Any, float], after: dict[Any, float]) -> dict[Any, float]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


async def test_statements_and_transactions_are_counted(engine: orm.Engine) -> None:
    dialect = engine.dialect.name
    s = engine.new_session()
    before = scraped("dialect", dialect)
    await s.insert(User("a", 1), User("b", 2), User("c", 3))  # one statement
    assert await s.model(User).count() == 3
    await s.model(User).where("name = ?", "a").update({"age": 9})
    with pytest.raises(orm.DatabaseError):
        await s.raw("SELECT * FROM no_such_table").query_rows()
    with trio.move_on_after(0.2) as scope:
        await s.raw(LONG_QUERY).query_row()
    assert scope.cancelled_caught

    async def commit(t: orm.Session) -> None:
        await t.insert(User("d", 4))

    async def fail(t: orm.Session) -> None:
        await t.model(User).where("name = ?", "b").delete()
        raise RuntimeError("roll back")

    await engine.transaction(commit)
    with pytest.raises(RuntimeError):
        await engine.transaction(fail)
    change = moved(before, scraped("dialect", dialect))
    statements = {
        labels: n for (name, labels), n in change.items() if name == "geetrio_orm_statements_total"
    }
    assert statements == {
        (("kind", "insert"), ("outcome", "ok")): 2,
        (("kind", "select"), ("outcome", "ok")): 1,
        (("kind", "update"), ("outcome", "ok")): 1,
        (("kind", "delete"), ("outcome", "ok")): 1,
        (("kind", "select"), ("outcome", "error")): 1,
        (("kind", "other"), ("outcome", "cancelled")): 1,  # WITH RECURSIVE ...
    }
    assert change[("geetrio_orm_transactions_total", (("outcome", "commit"),))] == 1
    assert change[("geetrio_orm_transactions_total", (("outcome", "rollback"),))] == 1
    count = ("geetrio_orm_statement_duration_seconds_count", (("kind", "select"),))
    assert change[count] == 2  # ok and error alike
    assert change[("geetrio_orm_statement_duration_seconds_sum", (("kind", "other"),))] >= 0.2
