"""SQL built as text + parameters (sans-IO). Values are always ``?`` parameters and
identifiers always quoted; the only caller-written SQL are the ``where``/``order_by``
fragments (documented on ``Query``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._errors import ORMError
from ._quoting import quote_literal
from ._types import Condition, Statement
from .indexes import Index
from .schema import Field, Schema, parse

__all__ = [
    "Statement",
    "column_definition",
    "count",
    "create_index",
    "create_table",
    "delete",
    "drop_table",
    "insert",
    "literal",
    "select",
    "tail",
    "update",
    "where_sql",
]


def where_sql(conditions: Sequence[Condition]) -> Statement:
    if not conditions:
        return "", ()
    if len(conditions) == 1:
        text, params = conditions[0]
        return f" WHERE {text}", params
    text = " AND ".join(f"({c})" for c, _ in conditions)
    return f" WHERE {text}", tuple(p for _, ps in conditions for p in ps)


def tail(schema: Schema, order_by: str | None, limit: int | None, offset: int = 0) -> str:
    tail = f" ORDER BY {order_by}" if order_by else ""
    if limit is not None:
        tail += f" LIMIT {int(limit)}"
    elif offset:
        tail += schema.dialect.no_limit
    if offset:
        tail += f" OFFSET {int(offset)}"
    return tail


def select(
    schema: Schema,
    conditions: Sequence[Condition] = (),
    order_by: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Statement:
    where, params = where_sql(conditions)
    columns = ", ".join(f.quoted for f in schema.fields)
    rest = tail(schema, order_by, limit, offset)
    return f"SELECT {columns} FROM {schema.quoted_table}{where}{rest}", params


def count(schema: Schema, conditions: Sequence[Condition] = ()) -> Statement:
    where, params = where_sql(conditions)
    return f"SELECT count(*) FROM {schema.quoted_table}{where}", params


def insert(schema: Schema) -> str:
    """One row's INSERT; many rows use it with ``executemany`` (one prepared statement)."""
    columns = ", ".join(f.quoted for f in schema.fields)
    marks = ", ".join("?" for _ in schema.fields)
    return f"INSERT INTO {schema.quoted_table} ({columns}) VALUES ({marks})"


def update(
    schema: Schema,
    values: dict[str, Any],
    conditions: Sequence[Condition] = (),
) -> Statement:
    if not values:
        raise ValueError("update() needs at least one column to set")
    where, params = where_sql(conditions)
    quote = schema.dialect.quote_identifier
    sets = ", ".join(f"{quote(name)} = ?" for name in values)
    return f"UPDATE {schema.quoted_table} SET {sets}{where}", (*values.values(), *params)


def delete(schema: Schema, conditions: Sequence[Condition] = ()) -> Statement:
    where, params = where_sql(conditions)
    return f"DELETE FROM {schema.quoted_table}{where}", params


def literal(value: Any, quote: Callable[[str], str] = quote_literal) -> str | None:
    """A model default as SQL text: bool, int, float and str literals only (strings
    quoted by ``quote``, the dialect's)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # both dialects (sqlite since 3.23)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    return None


def column_definition(schema: Schema, field: Field) -> str:
    column = f"{field.quoted} {field.sql_type}"
    if field.tag:
        column += f" {field.tag}"
    default = literal(field.default, schema.dialect.quote_literal)
    if default is not None:
        column += f" DEFAULT {default}"
    if field.references is not None:
        target, referenced = referenced_column(schema, field)
        column += (
            f" REFERENCES {target.quoted_table} ({referenced.quoted})"
            f" ON DELETE {field.references.on_delete}"
        )
    return column


def referenced_column(schema: Schema, field: Field) -> tuple[Schema, Field]:
    """The table and column a foreign key points at: ``ORMError`` naming what is
    missing (a model without a primary key, a column it does not have)."""
    assert field.references is not None
    reference = field.references
    target = parse(reference.target(schema.model), schema.dialect)
    where = f"{schema.model.__name__}.{field.name}"
    if reference.column is None:
        found = target.primary_key
        if found is None:
            raise ORMError(
                f"{where} references {target.model.__name__}, which has no primary key "
                "(name a unique column with column=)"
            )
        return target, found
    named = target.field(reference.column)
    if named is None:
        raise ORMError(f"{where} references {target.table}.{reference.column}: no such column")
    return target, named


def create_table(schema: Schema, table: str | None = None) -> str:
    columns = [column_definition(schema, f) for f in schema.fields]
    name = schema.dialect.quote_identifier(table) if table else schema.quoted_table
    return f"CREATE TABLE {name} ({', '.join(columns)})"


def create_index(schema: Schema, index: Index) -> str:
    quote = schema.dialect.quote_identifier
    kind = "UNIQUE INDEX" if index.unique else "INDEX"
    columns = ", ".join(quote(c) for c in index.columns)
    return f"CREATE {kind} {quote(index.name(schema.table))} ON {schema.quoted_table} ({columns})"


def drop_table(schema: Schema) -> str:
    return f"DROP TABLE IF EXISTS {schema.quoted_table}"
