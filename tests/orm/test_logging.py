"""The ORM logs each statement and its parameters at DEBUG on ``geetrio.orm``."""

from __future__ import annotations

import logging

import pytest

from geetrio import orm
from tests.orm.conftest import User


async def test_sql_and_parameters_are_logged_at_debug(
    engine: orm.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="geetrio.orm")
    s = engine.new_session()
    await s.insert(User("Tom", 18))
    await s.where("age > ?", 10).find(User)
    messages = [r.getMessage() for r in caplog.records if r.name == "geetrio.orm"]
    insert = 'INSERT INTO "User" ("name", "age") VALUES (?, ?) (\'Tom\', 18) ('
    select = 'SELECT "name", "age" FROM "User" WHERE age > ? (10,) ('
    assert any(m.startswith(insert) and m.endswith(" ms)") for m in messages), messages
    assert any(m.startswith(select) and m.endswith(" ms)") for m in messages), messages
