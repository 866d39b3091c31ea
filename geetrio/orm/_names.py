"""The names a query's reads may use, checked against its models and quoted — never
passed on as SQL text: a column as ``name`` (the query's model) or ``table.name`` (a
joined table, by its table name or alias), and the aggregates ``count(*)``,
``count(column)``, ``count(DISTINCT column)``, ``sum``, ``min``, ``max`` and ``avg`` of a
column. Leaf module (no I/O).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import ORMError
from .schema import Field, Schema, from_db_value

__all__ = ["AGGREGATES", "Tables", "aggregate_reader", "read_rows"]

AGGREGATES = ("count", "sum", "min", "max", "avg")
_AGGREGATE = re.compile(r"\s*(\w+)\s*\(\s*(distinct\s+)?(.*?)\s*\)\s*", re.IGNORECASE)

Reader = Callable[[Any], Any]


def _as_int(value: Any) -> Any:
    return None if value is None else int(value)


def _as_float(value: Any) -> Any:
    return None if value is None else float(value)


class Tables:
    """The tables of one query by the names SQL gives them: its model's table first,
    then each joined one. ``qualified``: columns as ``"table"."column"`` (needed once
    there is more than one table)."""

    __slots__ = ("main", "qualified", "schemas")

    def __init__(self, main: Schema, *, qualified: bool = True) -> None:
        self.main = main
        self.qualified = qualified
        self.schemas: dict[str, Schema] = {main.table: main}

    def add(self, name: str, schema: Schema) -> None:
        self.schemas[name] = schema

    def quote(self, name: str) -> str:
        return self.main.dialect.quote_identifier(name)

    def column(self, name: str) -> tuple[str, Field]:
        """``name`` or ``table.name`` as quoted SQL, and its field."""
        if not isinstance(name, str):
            raise ValueError(f"a column name is a str, not {name!r}")
        table, _, column = name.rpartition(".")
        schema = self.schemas.get(table or self.main.table)
        if schema is None:
            known = ", ".join(self.schemas)
            raise ORMError(f"{name!r}: no table {table!r} in this query (tables: {known})")
        field = schema.field(column)
        if field is None:
            hint = "" if table else " (a joined table's column is named table.column)"
            raise ORMError(f"{schema.table} has no column {column!r}{hint}")
        if not self.qualified:
            return field.quoted, field
        return f"{self.quote(table or self.main.table)}.{field.quoted}", field

    def expression(self, name: str) -> tuple[str, Reader | None]:
        """A column, or an aggregate of one: its SQL and how its values are read (None:
        as they come)."""
        if "(" not in name:
            sql, field = self.column(name)
            needs_reading = field.python_type in (bool, datetime.datetime)
            return sql, from_db_value(field) if needs_reading else None
        match = _AGGREGATE.fullmatch(name)
        function = match.group(1).lower() if match else ""
        if match is None or function not in AGGREGATES:
            raise ORMError(
                f"{name!r} is no column nor aggregate: use count(*), count(column), "
                "count(DISTINCT column), sum/min/max/avg(column)"
            )
        distinct, inner = match.group(2), match.group(3)
        if inner == "*" and function == "count" and not distinct:
            return "count(*)", _as_int
        sql, field = self.column(inner)
        text = f"{function}({'DISTINCT ' if distinct else ''}{sql})"
        return text, aggregate_reader(function, field)

    def deleted_scope(self, name: str) -> str:
        """``"name"."deleted_at" IS NULL`` for a soft-deleting model, else ``""``."""
        deleted = self.schemas[name].with_role("deleted_at")
        if deleted is None:
            return ""
        return f"{self.quote(name)}.{deleted.quoted} IS NULL"


def read_rows(rows: list[Any], readers: Sequence[Reader | None]) -> list[tuple[Any, ...]]:
    """``rows`` with each column read by its reader — only the columns that need it: one
    whose first value already has the type its reader makes is taken as it comes (a
    driver gives one type per result column)."""
    if not rows:
        return []
    first = rows[0]
    needed = [
        (i, read)
        for i, read in enumerate(readers)
        if read is not None and type(first[i]) is not _MAKES.get(read)
    ]
    if not needed:
        return rows if isinstance(first, tuple) else [tuple(row) for row in rows]
    columns = list(zip(*rows, strict=True))
    for i, read in needed:
        columns[i] = tuple(map(read, columns[i]))
    return list(zip(*columns, strict=True))


def aggregate_reader(function: str, field: Field) -> Reader:
    """How an aggregate's value is read, the same on every dialect: ``count`` an int,
    ``avg`` a float, ``sum`` of ints an int (PostgreSQL's is a ``Decimal``), ``min`` and
    ``max`` as the column's own values."""
    if function == "count":
        return _as_int
    if function == "avg":
        return _as_float
    if function == "sum":
        if field.python_type is int:
            return _as_int
        return _as_float if field.python_type is float else (lambda value: value)
    return from_db_value(field)


# the type a reader makes, when it leaves that type as it is
_MAKES: dict[Reader, type] = {_as_int: int, _as_float: float}
