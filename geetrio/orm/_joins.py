"""Joins and grouping: ``Query.join``/``left_join``, ``group_by``, ``having`` (the
``Joins`` half of ``Query``), and the ``FROM ... WHERE ... GROUP BY ... HAVING`` part
every read shares (``frame``).

>>> # users with more than 5 posts, and their words in all
>>> # await (s.model(User).join(Post).group_by("id").having("count(*) > ?", 5)
>>> #        .values("name", "count(*)", "sum(posts.words)"))

``join(Post)`` without ``on=`` follows the one foreign key between ``Post`` and a table
already in the query; ``on=`` is SQL you write (values as ``?``), as ``where`` is. A
joined model's soft-delete scope goes into its ``ON`` (so a ``left_join`` keeps the
parent). Names in ``values``, ``group_by`` and aggregates (``_names``) are checked against
the models, never passed on as SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from . import clause
from ._errors import ORMError
from ._names import Tables
from ._placeholders import expand_lists, to_pyformat
from .schema import Schema

if TYPE_CHECKING:
    from ._mapper import Mapper
    from ._types import Condition

__all__ = ["Join", "Joins", "frame", "tables_of"]


@dataclass(frozen=True, slots=True)
class Join:
    """One joined table: ``kind`` (``JOIN``, ``LEFT JOIN``), its schema, the name SQL
    gives it (its table, or ``alias``), the ``ON`` text and its values."""

    kind: str
    schema: Schema
    name: str
    on: str
    params: tuple[Any, ...]


class Joins:
    """``Query``'s joins and grouping: each returns a new query."""

    session: Any  # the query's ``Session``
    model_type: type[Any] | None
    joins: tuple[Join, ...]
    groups: tuple[str, ...]
    havings: tuple[Condition, ...]

    if TYPE_CHECKING:

        def _with(self, **changes: Any) -> Self: ...

    def join(self, model: type[Any], on: str | None = None, *args: Any, alias: str = "") -> Self:
        """``JOIN`` ``model``'s table: ``ON`` the SQL ``on`` (``?`` values in ``args``),
        or, without ``on``, on the one foreign key between it and a table already in
        the query (``ORMError`` when there is none or more than one). ``alias`` names a
        table joined twice (``"managers"``). ``find`` still gives the query's model,
        one per joined row; ``values`` and ``where`` can use the joined columns
        (``"posts.words"``)."""
        return self._join("JOIN", model, on, args, alias)

    def left_join(
        self, model: type[Any], on: str | None = None, *args: Any, alias: str = ""
    ) -> Self:
        """``join``, keeping rows that have no match (its columns ``None`` then)."""
        return self._join("LEFT JOIN", model, on, args, alias)

    def group_by(self, *columns: str) -> Self:
        """``GROUP BY`` these columns (``"name"``, ``"posts.user_id"``); read the
        groups with ``values("name", "count(*)", "sum(posts.words)")``, or ``find``
        grouped by the primary key. ``count()`` counts groups."""
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise ValueError("group_by() needs column names such as 'name' or 'posts.user_id'")
        return self._with(groups=(*self.groups, *columns))

    def having(self, condition: str, *args: Any) -> Self:
        """A condition on the groups (``having("count(*) > ?", 5)``): SQL you write,
        values as ``?``, as ``where``. Needs ``group_by``."""
        return self._with(havings=(*self.havings, _condition("having", condition, args)))

    def _join(
        self, kind: str, model: type[Any], on: str | None, args: tuple[Any, ...], alias: str
    ) -> Self:
        if self.model_type is None:
            raise ValueError("join() needs the query's model first: session.model(Model).join(...)")
        if not isinstance(model, type):
            raise ValueError(f"join() needs a model class, not {model!r}")
        schema = self.session.engine.mapper(model).schema
        tables = tables_of(self.session.engine, self.model_type, self.joins)
        if not isinstance(alias, str) or (alias and not alias.isidentifier()):
            raise ORMError(f"join({model.__name__}): alias must be a plain name, not {alias!r}")
        name = alias or schema.table
        if name in tables.schemas:
            raise ORMError(
                f"join({model.__name__}): {name!r} is already in the query; name this one "
                "with alias="
            )
        if on is None:
            if args:
                raise ValueError(f"join({model.__name__}): values given but no on= condition")
            on = _foreign_key_condition(tables, schema, name)
        else:
            on, args = _condition("join", on, args)
        return self._with(joins=(*self.joins, Join(kind, schema, name, on, args)))


def _condition(method: str, condition: str, args: tuple[Any, ...]) -> Condition:
    if not isinstance(condition, str) or not condition.strip():
        raise ValueError(f"{method}() needs a SQL condition such as 'count(*) > ?'")
    condition, args = expand_lists(condition, args)
    _, marks = to_pyformat(condition)
    if marks != len(args):
        raise ValueError(f"{method}({condition!r}) has {marks} '?' but {len(args)} values")
    return condition, args


def tables_of(engine: Any, model: type[Any], joins: Sequence[Join]) -> Tables:
    tables = Tables(engine.mapper(model).schema)
    for join in joins:
        tables.add(join.name, join.schema)
    return tables


def _foreign_key_condition(tables: Tables, schema: Schema, name: str) -> str:
    """``ON`` along the one foreign key between ``schema`` (to be named ``name``) and a
    table of ``tables``."""
    found = []
    for other_name, other in tables.schemas.items():
        for child, child_name, parent, parent_name in (
            (schema, name, other, other_name),
            (other, other_name, schema, name),
        ):
            for field in child.fields:
                if field.references is None:
                    continue
                target, column = clause.referenced_column(child, field)
                if target.model is parent.model:
                    found.append(
                        f"{tables.quote(child_name)}.{field.quoted} = "
                        f"{tables.quote(parent_name)}.{column.quoted}"
                    )
    if len(found) == 1:
        return found[0]
    joined = schema.model.__name__
    if not found:
        raise ORMError(
            f"join({joined}) without a condition: no foreign key links {schema.table} with "
            f"{', '.join(tables.schemas)}; give on="
        )
    raise ORMError(f"join({joined}) is ambiguous: {' or '.join(found)}; give on=")


def frame(query: Any, mapper: Mapper) -> tuple[str, tuple[Any, ...], Tables]:
    """``FROM ... [JOIN ...] [WHERE ...] [GROUP BY ...] [HAVING ...]`` of ``query``, its
    values in order, and its tables (columns qualified once there are joins or groups;
    else the SQL is the plain query's, as before joins existed)."""
    schema = mapper.schema
    if not query.joins and not query.groups:
        if query.havings:
            raise ORMError("having() needs group_by()")
        where, where_params = clause.where_sql(query._where(mapper))
        plain = Tables(schema, qualified=False)
        return f" FROM {schema.quoted_table}{where}", where_params, plain
    tables = tables_of(query.session.engine, schema.model, query.joins)
    text = f" FROM {schema.quoted_table}"
    params: list[Any] = []
    for join in query.joins:
        target = join.schema.quoted_table
        if join.name != join.schema.table:
            target += f" AS {tables.quote(join.name)}"
        on = join.on
        scope = tables.deleted_scope(join.name)
        if scope and not query.unscoped:
            on = f"({on}) AND {scope}"
        text += f" {join.kind} {target} ON {on}"
        params.extend(join.params)
    conditions = query.conditions
    scope = tables.deleted_scope(schema.table)
    if scope and not query.unscoped:
        conditions = (*conditions, (scope, ()))
    where, where_params = clause.where_sql(conditions)
    text += where
    params.extend(where_params)
    if query.groups:
        text += " GROUP BY " + ", ".join(tables.column(name)[0] for name in query.groups)
    elif query.havings:
        raise ORMError("having() needs group_by()")
    if query.havings:
        having, having_params = clause.where_sql(query.havings)
        text += " HAVING" + having.removeprefix(" WHERE")
        params.extend(having_params)
    return text, tuple(params), tables
