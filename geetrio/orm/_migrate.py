"""``migrate``: make a table match its model, keeping the rows, in one transaction. How
the table changes is its dialect's (``Dialect.alter_table``)."""

from __future__ import annotations

import logging
from typing import Any

from . import clause
from ._dialect import Dialect, added_fields, removed_columns
from ._executor import Executor
from ._session import Session
from .indexes import PREFIXES
from .schema import Schema

__all__ = ["migrate"]

log = logging.getLogger("geetrio.orm")


class _Statements:
    """A session as the ``dialect.Statements`` a migration runs its SQL through."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def exec(self, sql: str) -> int:
        return await self._session.raw(sql).exec()

    async def rows(self, sql: str) -> list[Any]:
        return await self._session.raw(sql).query_rows()


async def migrate(engine: Executor, model: type) -> None:
    """Create the table if missing, else add the new columns and drop the removed ones
    as the dialect does it (sqlite: a rebuild with foreign keys off, then checked); all
    in one transaction, so a failure changes nothing."""
    schema = engine.mapper(model).schema
    dialect = engine.dialect

    async def run(session: Session) -> None:
        if not await session.model(model).has_table():
            await session.model(model).create_table()
            return
        rows = await session.raw(dialect.columns_sql(schema.table)).query_rows()
        existing = [row[1] for row in rows]
        await dialect.alter_table(_Statements(session), schema, existing)
        added, dropped = await _sync_indexes(session, schema, dialect)
        log.info(
            "migrated %s: added %s, dropped %s; indexes added %s, dropped %s",
            schema.table,
            [f.name for f in added_fields(schema, existing)],
            removed_columns(schema, existing),
            added,
            dropped,
        )

    await engine.run_transaction(run, foreign_keys_off=True)


async def _sync_indexes(
    session: Session, schema: Schema, dialect: Dialect
) -> tuple[list[str], list[str]]:
    """Create the declared indexes the table lacks, drop the ones of ours (by name
    prefix) no longer declared; indexes made by hand are left alone. (A sqlite rebuild
    dropped the old table's indexes: they are all created again here.)"""
    sql, params = dialect.indexes_sql(schema.table)
    names = {row[0] for row in await session.raw(sql, *params).query_rows()}
    ours = {name for name in names if name.startswith(PREFIXES)}
    declared = {index.name(schema.table): index for index in schema.indexes}
    dropped = sorted(ours - declared.keys())
    for name in dropped:
        await session.raw(f"DROP INDEX {dialect.quote_identifier(name)}").exec()
    added = [name for name in declared if name not in names]
    for name in added:
        await session.raw(clause.create_index(schema, declared[name])).exec()
    return added, dropped
