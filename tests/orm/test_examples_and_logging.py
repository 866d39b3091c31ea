from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import trio

from geetrio import orm
from tests.orm.conftest import User

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "orm"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("day1_database_sql.py", "query_rows: [('Tom',), ('Sam',)]"),
        ("day2_reflect_schema.py", "UnsupportedType: Broken.tags: type list[str]"),
        ("day3_save_query.py", "find: [User(name='Tom', age=18), User(name='Sam', age=25)]"),
        ("day4_chain_operation.py", "left: [User(name='Ann', age=31), User(name='Tom', age=30)]"),
        ("day5_hooks.py", "stored: [(1, '######'), (2, '######')]"),
        ("day6_transaction.py", "cancelled and rolled back; rows: 2"),
        ("day7_migrate.py", "columns now: ['name', 'xxx']"),
    ],
)
async def test_example(script: str, expected: str) -> None:
    result = await trio.run_process(
        [sys.executable, str(EXAMPLES / script)], capture_stdout=True, capture_stderr=True
    )
    assert expected in result.stdout.decode(), result.stdout.decode()


async def test_sql_and_parameters_are_logged_at_debug(
    engine: orm.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="geetrio.orm")
    s = engine.new_session()
    await s.insert(User("Tom", 18))
    await s.where("age > ?", 10).find(User)
    messages = [r.getMessage() for r in caplog.records if r.name == "geetrio.orm"]
    assert 'INSERT INTO "User" ("name", "age") VALUES (?, ?) (\'Tom\', 18)' in messages
    assert 'SELECT "name", "age" FROM "User" WHERE age > ? (10,)' in messages
