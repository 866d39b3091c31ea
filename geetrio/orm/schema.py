"""From a dataclass to a table: columns, types, converters. Leaf module (no I/O).

Types come from annotations: int, bool, float, str, bytes, datetime, and ``X | None``
(``Optional[X]``) of those. Table name = class name, or ``__tablename__``. Column extras
(``PRIMARY KEY``, ``NOT NULL``, ...) come from ``field(metadata={"geeorm": "..."})``.
"""

from __future__ import annotations

import dataclasses
import datetime
import operator
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import starmap
from typing import Any, Protocol

from ._errors import ORMError, UnsupportedType
from .indexes import Index
from .relations import Reference, Relation, reference_of, related_model, relation_of, role_of

__all__ = ["Field", "SQLNames", "Schema", "parse", "to_db_value"]


class SQLNames(Protocol):
    """What parsing a model needs of its dialect (``dialect.Dialect`` is one)."""

    name: str
    no_limit: str  # the LIMIT that means none, before an OFFSET ("" when not needed)

    def column_type(self, python_type: type) -> str | None: ...

    def quote_identifier(self, name: str) -> str: ...

    def quote_literal(self, text: str) -> str: ...


@dataclass(frozen=True)
class Field:
    name: str
    python_type: type
    sql_type: str
    tag: str
    nullable: bool
    default: Any  # dataclasses.MISSING when there is none
    quoted: str  # the name as the dialect quotes it
    references: Reference | None = None  # a foreign key (``orm.foreign_key``)
    role: str = ""  # created_at, updated_at or deleted_at (``orm.created_at()``...)


def to_db_value(value: Any) -> Any:
    """A value as stored: a ``datetime`` as its ISO text (sqlite has no datetime type)."""
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value


def _from_db_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _from_db_datetime(value: Any) -> Any:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value)


def from_db_value(field: Field) -> Callable[[Any], Any]:
    """How one column's stored value becomes the field's (``from_row`` per column)."""
    if field.python_type is bool:
        return _from_db_bool
    if field.python_type is datetime.datetime:
        return _from_db_datetime
    return lambda value: value


@dataclass(frozen=True)
class Schema:
    model: type
    table: str
    fields: tuple[Field, ...]
    quoted_table: str
    dialect: SQLNames = dataclasses.field(compare=False, repr=False)
    indexes: tuple[Index, ...] = ()  # ``__indexes__``
    # relation fields (not columns): name -> (has_many/belongs_to, the related model)
    relations: dict[str, tuple[Relation, type]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def primary_key(self) -> Field | None:
        return next((f for f in self.fields if "PRIMARY KEY" in f.tag.upper()), None)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def with_role(self, role: str) -> Field | None:
        """The column playing ``role`` (created_at, updated_at, deleted_at), if any."""
        return next((f for f in self.fields if f.role == role), None)

    def values_of(self) -> Callable[[Any], tuple[Any, ...]]:
        """object -> the tuple of its column values, ready for the driver."""
        getter: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*self.names)
        if len(self.fields) == 1:
            name = self.names[0]
            getter = lambda obj: (getattr(obj, name),)  # noqa: E731 - attrgetter(one) is no tuple
        writers = [
            (i, to_db_value)
            for i, f in enumerate(self.fields)
            if f.python_type is datetime.datetime
        ]
        if not writers:
            return getter

        def convert(obj: Any) -> tuple[Any, ...]:
            values = list(getter(obj))
            for i, to_db in writers:
                values[i] = to_db(values[i])
            return tuple(values)

        return convert

    def from_row(self) -> Callable[[tuple[Any, ...]], Any]:
        """A row in ``names`` order -> a model instance (``cls(*row)`` when no column
        needs converting: the fast path)."""
        model = self.model
        readers = [
            (i, _from_db_bool if f.python_type is bool else _from_db_datetime)
            for i, f in enumerate(self.fields)
            if f.python_type in (bool, datetime.datetime)
        ]
        if self.relations:  # relation fields sit between the columns: by keyword
            names = self.names

            def build_by_name(row: tuple[Any, ...]) -> Any:
                values = list(row)
                for i, from_db in readers:
                    values[i] = from_db(values[i])
                return model(**dict(zip(names, values, strict=True)))

            return build_by_name
        if not readers:
            return lambda row: model(*row)

        def build(row: tuple[Any, ...]) -> Any:
            values = list(row)
            for i, from_db in readers:
                values[i] = from_db(values[i])
            return model(*values)

        return build

    def from_rows(self) -> Callable[[Iterable[tuple[Any, ...]]], list[Any]]:
        """Rows -> instances: ``list(starmap(cls, rows))`` when no column needs
        converting (no call of ours per row), else ``from_row`` on each."""
        needs_reading = any(f.python_type in (bool, datetime.datetime) for f in self.fields)
        if not self.relations and not needs_reading:
            model = self.model
            return lambda rows: list(starmap(model, rows))
        build = self.from_row()
        return lambda rows: list(map(build, rows))


_cache: dict[tuple[type, str], Schema] = {}


def parse(model: type, dialect: SQLNames) -> Schema:
    """The schema of a dataclass model (cached)."""
    key = (model, dialect.name)
    schema = _cache.get(key)
    if schema is None:
        schema = _cache[key] = _parse(model, dialect)
    return schema


def _parse(model: type, dialect: SQLNames) -> Schema:
    if not (isinstance(model, type) and dataclasses.is_dataclass(model)):
        raise TypeError(f"a model must be a dataclass, not {model!r}")
    table = model.__dict__.get("__tablename__", model.__name__)
    quoted_table = dialect.quote_identifier(table)  # refuses "" and NUL, clearly
    hints = typing.get_type_hints(model)
    fields = []
    relations: dict[str, tuple[Relation, type]] = {}
    for f in dataclasses.fields(model):
        if not f.init:
            raise UnsupportedType(
                f"{model.__name__}.{f.name}: fields with init=False are not mapped"
            )
        relation = relation_of(f)
        if relation is not None:
            target = related_model(model, f.name, hints[f.name], relation)
            relations[f.name] = (relation, target)
            continue
        python_type, nullable = _unwrap_optional(hints[f.name])
        sql_type = dialect.column_type(python_type) if isinstance(python_type, type) else None
        if sql_type is None:
            raise UnsupportedType(
                f"{model.__name__}.{f.name}: type {hints[f.name]!r} has no {dialect.name} "
                "column type (use int, bool, float, str, bytes, datetime, or X | None of those)"
            )
        quoted = dialect.quote_identifier(f.name)
        default = f.default if f.default is not dataclasses.MISSING else dataclasses.MISSING
        tag = f.metadata.get("geeorm", "")
        if not isinstance(tag, str):
            raise TypeError(f"{model.__name__}.{f.name}: metadata 'geeorm' must be a string")
        role = role_of(f)
        if role and python_type is not datetime.datetime:
            raise UnsupportedType(f"{model.__name__}.{f.name}: a {role} column is a datetime")
        field = Field(
            f.name, python_type, sql_type, tag, nullable, default, quoted, reference_of(f), role
        )
        fields.append(field)
    if not fields:
        raise UnsupportedType(f"{model.__name__} has no fields to map")
    indexes = _indexes(model, {f.name for f in fields})
    return Schema(model, table, tuple(fields), quoted_table, dialect, indexes, relations)


def _indexes(model: type, columns: set[str]) -> tuple[Index, ...]:
    declared = model.__dict__.get("__indexes__", ())
    if not isinstance(declared, tuple | list) or not all(isinstance(i, Index) for i in declared):
        raise TypeError(f"{model.__name__}.__indexes__ holds orm.index(...) and orm.unique(...)")
    for found in declared:
        unknown = [c for c in found.columns if c not in columns]
        if unknown:
            raise ORMError(f"{model.__name__}.__indexes__: no column {unknown[0]!r} to index")
    return tuple(declared)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False
