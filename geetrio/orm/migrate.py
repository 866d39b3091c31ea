"""``migrate``: make a table match its model, keeping the rows, in one transaction."""

from __future__ import annotations

import logging

from . import clause
from .dialect import quote_identifier
from .errors import ORMError
from .executor import Executor
from .schema import Schema
from .session import Session

__all__ = ["migrate"]

log = logging.getLogger("geetrio.orm")


async def migrate(engine: Executor, model: type) -> None:
    """Add new columns (``ALTER TABLE ... ADD COLUMN``) or, when a column is dropped or
    an added one carries a constraint sqlite cannot add, rebuild the table the way
    sqlite documents it: foreign keys off for the transaction, new table, copy, drop,
    rename, ``PRAGMA foreign_key_check``, commit. A failed check rolls it all back."""
    schema = engine.mapper(model).schema

    async def run(session: Session) -> None:
        if not await session.model(model).has_table():
            await session.model(model).create_table()
            return
        rows = await session.raw(engine.dialect.columns_sql(schema.table)).query_rows()
        existing = [row[1] for row in rows]
        wanted = list(schema.names)
        added = [f for f in schema.fields if f.name not in existing]
        removed = [name for name in existing if name not in wanted]
        if engine.dialect.alters_in_place:  # PostgreSQL: transactional DDL, DROP COLUMN
            for name in removed:
                await session.raw(
                    f"ALTER TABLE {schema.quoted_table} DROP COLUMN {quote_identifier(name)}"
                ).exec()
            for column in added:
                definition = clause.column_definition(column)
                await session.raw(
                    f"ALTER TABLE {schema.quoted_table} ADD COLUMN {definition}"
                ).exec()
        elif removed or any(column.tag for column in added):
            # sqlite's ADD COLUMN cannot add constraints (UNIQUE, PRIMARY KEY, ...)
            await _rebuild(session, schema, [n for n in wanted if n in existing])
        else:
            for column in added:
                definition = clause.column_definition(column)
                await session.raw(
                    f"ALTER TABLE {schema.quoted_table} ADD COLUMN {definition}"
                ).exec()
        log.info(
            "migrated %s: added %s, dropped %s", schema.table, [f.name for f in added], removed
        )

    await engine.run_transaction(run, foreign_keys_off=True)


async def _rebuild(session: Session, schema: Schema, kept: list[str]) -> None:
    foreign_keys = await session.raw("PRAGMA foreign_keys").query_row()
    if foreign_keys != (0,):
        # Inside an enclosing transaction the pragma cannot change, and DROP TABLE with
        # foreign keys on would run ON DELETE actions of the tables referencing it.
        raise ORMError(
            f"migrating {schema.table!r} rebuilds the table, which needs foreign keys off: "
            "run migrate() outside a transaction"
        )
    temporary = quote_identifier(f"{schema.table}__geetrio_migrate")
    await session.raw(f"DROP TABLE IF EXISTS {temporary}").exec()
    await session.raw(clause.create_table(schema, f"{schema.table}__geetrio_migrate")).exec()
    columns = ", ".join(quote_identifier(n) for n in kept)
    await session.raw(
        f"INSERT INTO {temporary} ({columns}) SELECT {columns} FROM {schema.quoted_table}"
    ).exec()  # columns new in the table take their DEFAULT from its definition
    await session.raw(f"DROP TABLE {schema.quoted_table}").exec()
    await session.raw(f"ALTER TABLE {temporary} RENAME TO {schema.quoted_table}").exec()
    violations = await session.raw("PRAGMA foreign_key_check").query_rows()
    if violations:
        shown = ", ".join(
            f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in violations[:5]
        )
        raise ORMError(
            f"migrating {schema.table!r}: foreign key check failed for {len(violations)} "
            f"row(s) ({shown}); nothing was changed"
        )
