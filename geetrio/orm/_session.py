"""Sessions and queries. A ``Session`` carries no state between statements; every
chained call (``model``, ``where``, ``order_by``, ``limit``) returns a new immutable
``Query``, so a query can be reused and nothing leaks into the next one.

Safety: values are always bound parameters and identifiers always quoted. The text you
pass to ``where()`` and ``order_by()`` is SQL you write yourself: put values in ``?``
parameters (``where("name = ?", name)``), never into the text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, overload

from . import clause
from ._errors import NotFound, ORMError
from ._executor import Executor
from ._hooks import call_hook
from ._insert import Conflict, insert_objects, utc_now
from ._jobs import _fetchall, _fetchone, _rowcount
from ._joins import Join, Joins, frame
from ._mapper import Mapper
from ._placeholders import expand_lists, to_pyformat
from ._preload import load, plan
from ._raw import Raw
from ._reads import Reads
from ._types import Condition

__all__ = ["Query", "Session"]

log = logging.getLogger("geetrio.orm")

M = TypeVar("M")


class Session:
    """A handle on an engine for issuing statements; cheap, stateless, shareable.

    Inside ``engine.transaction(fn)`` statements of any session (and of tasks started
    by ``fn``) run in that transaction.
    """

    __slots__ = ("engine",)

    def __init__(self, engine: Executor) -> None:
        self.engine = engine

    def model(self, model: type[M]) -> Query[M]:
        return Query(self, model)

    def where(self, condition: str, *args: Any) -> Query[Any]:
        return Query(self, None).where(condition, *args)

    def order_by(self, order: str) -> Query[Any]:
        return Query(self, None).order_by(order)

    def limit(self, count: int) -> Query[Any]:
        return Query(self, None).limit(count)

    async def find(self, model: type[M]) -> list[M]:
        """Every row of ``model``'s table (``s.Find(&users)`` of the original).
        Cancelled: as ``Query.find``."""
        return await Query(self, model).find()

    async def first(self, model: type[M]) -> M:
        """The first row of ``model``'s table; raises ``NotFound`` when it is empty.
        Cancelled: as ``Query.first``."""
        result: M = await Query(self, model).first()
        return result

    def raw(self, sql: str, *args: Any) -> Raw:
        """Explicit SQL with ``?`` parameters."""
        return Raw(self, sql, args)

    async def insert(self, *objects: Any) -> int:
        """Insert model instances (one statement per model, all rows in one hop);
        returns the number of rows inserted. ``before_insert`` hooks run first and
        what they change is stored. Cancelled: no row of a model is half-inserted (its
        rows go in one statement); models already inserted stay inserted unless a
        cancelled ``transaction`` rolls them back. The engine stays usable."""
        return await insert_objects(self, objects)

    async def insert_or_ignore(self, *objects: Any, conflict: str | Sequence[str]) -> int:
        """``insert``, leaving out the rows whose ``conflict`` column(s) (a primary key
        or unique constraint) match a row already there; the number inserted.
        Cancelled: as ``insert``."""
        return await insert_objects(self, objects, Conflict.of(conflict, ()))

    async def upsert(
        self,
        *objects: Any,
        conflict: str | Sequence[str],
        update: Sequence[str] | None = None,
    ) -> int:
        """``insert``; a row whose ``conflict`` column(s) match one already there
        updates that one's ``update`` columns instead (default: every other column).
        ``ORMError`` before any SQL for a conflict target that is no primary key or
        unique constraint. Cancelled: as ``insert``."""
        return await insert_objects(self, objects, Conflict.of(conflict, update))


class Query(Reads, Joins, Generic[M]):
    """An immutable query: each method returns a new one."""

    __slots__ = (
        "conditions",
        "count_limit",
        "groups",
        "havings",
        "joins",
        "model_type",
        "order",
        "preloads",
        "session",
        "skip",
        "unscoped",
    )

    def __init__(
        self,
        session: Session,
        model_type: type[M] | None,
        conditions: tuple[Condition, ...] = (),
        order: str | None = None,
        count_limit: int | None = None,
        skip: int = 0,
        preloads: tuple[str, ...] = (),
        unscoped: bool = False,
        joins: tuple[Join, ...] = (),
        groups: tuple[str, ...] = (),
        havings: tuple[Condition, ...] = (),
    ) -> None:
        self.session = session
        self.model_type = model_type
        self.conditions = conditions
        self.order = order
        self.count_limit = count_limit
        self.skip = skip
        self.preloads = preloads
        self.unscoped = unscoped  # soft-deleted rows too (``with_deleted``)
        self.joins = joins
        self.groups = groups
        self.havings = havings

    def __repr__(self) -> str:
        model = self.model_type.__name__ if self.model_type else None
        where = [c for c, _ in self.conditions]
        return (
            f"<Query {model} where={where} order={self.order!r} limit={self.count_limit}"
            f" offset={self.skip}>"
        )

    def _with(self, **changes: Any) -> Query[Any]:
        state: dict[str, Any] = {
            "model_type": self.model_type,
            "conditions": self.conditions,
            "order": self.order,
            "count_limit": self.count_limit,
            "skip": self.skip,
            "preloads": self.preloads,
            "unscoped": self.unscoped,
            "joins": self.joins,
            "groups": self.groups,
            "havings": self.havings,
        }
        state.update(changes)
        return Query(self.session, **state)

    def model(self, model: type[Any]) -> Query[Any]:
        return self._with(model_type=model)

    def where(self, condition: str, *args: Any) -> Query[M]:
        if not isinstance(condition, str) or not condition.strip():
            raise ValueError("where() needs a SQL condition such as 'age > ?'")
        condition, args = expand_lists(condition, args)
        _, marks = to_pyformat(condition)  # '?' in literals and identifiers are not marks
        if marks != len(args):
            raise ValueError(f"where({condition!r}) has {marks} '?' but {len(args)} values")
        return self._with(conditions=(*self.conditions, (condition, args)))

    def order_by(self, order: str) -> Query[M]:
        if not isinstance(order, str) or not order.strip() or ";" in order:
            raise ValueError(f"order_by() needs a column list such as 'age DESC', not {order!r}")
        return self._with(order=order)

    def limit(self, count: int) -> Query[M]:
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"limit() needs a non-negative int, not {count!r}")
        return self._with(count_limit=count)

    def with_deleted(self) -> Query[M]:
        """Soft-deleted rows too (gorm's ``Unscoped``): for models with
        ``orm.deleted_at()``; ``delete()`` then removes rows for good."""
        return self._with(unscoped=True)

    def _where(self, mapper: Mapper) -> tuple[Condition, ...]:
        """The conditions, with the soft-delete scope (``deleted_at IS NULL``)."""
        scope = mapper.soft_delete
        if scope is None or self.unscoped:
            return self.conditions
        return (*self.conditions, scope)

    def preload(self, path: str) -> Query[M]:
        """Load relation ``path`` (``"posts"``, nested ``"posts.comments"``) of what
        ``find``/``first`` return: one more statement per relation level (per
        ``PRELOAD_BATCH`` keys), never one per row. A name that is no relation is an
        ``ORMError`` before any statement runs."""
        if not isinstance(path, str) or not all(path.split(".")):
            raise ValueError(f"preload() needs a relation name such as 'posts', not {path!r}")
        return self._with(preloads=(*self.preloads, path))

    def offset(self, count: int) -> Query[M]:
        """Skip the first ``count`` matching rows (with ``order_by`` for a stable page)."""
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"offset() needs a non-negative int, not {count!r}")
        return self._with(skip=count)

    def _mapper(self, model: type[Any] | None = None) -> tuple[type[Any], Mapper]:
        model = model or self.model_type
        if model is None:
            raise ValueError(
                "no model: use session.model(Model) or pass the model to find()/first()"
            )
        return model, self.session.engine.mapper(model)

    def _writable(self, method: str) -> tuple[type[Any], Mapper]:
        if self.joins or self.groups or self.havings:
            raise ORMError(
                f"{method}() of a joined or grouped query: select the keys in where(), "
                "e.g. where('id IN (SELECT user_id FROM posts WHERE ...)')"
            )
        return self._mapper()

    def _params(self) -> tuple[Any, ...]:
        conditions = self.conditions
        if len(conditions) == 1:
            return conditions[0][1]
        return tuple(p for _, params in conditions for p in params)

    def _shape(self) -> tuple[Any, ...]:
        return tuple(c for c, _ in self.conditions)

    # ------------------------------------------------------------ reads

    async def find(self, model: type[Any] | None = None) -> list[Any]:
        """Every matching row as a model instance (``after_query`` runs per object).
        Cancelled: not run, or interrupted with nothing read; the engine stays usable."""
        model, mapper = self._mapper(model)
        steps = plan(self.session.engine, mapper.schema, self.preloads) if self.preloads else ()
        if mapper.hooks["before_query"]:
            await call_hook(model, "before_query", self.session)
        sql, params = self._select(mapper)
        rows = await self.session.engine.execute(_fetchall(sql, params), sql, params)
        objects = mapper.from_rows(rows)
        if steps and objects:
            await load(self.session, objects, steps)
        if mapper.hooks["after_query"]:
            for obj in objects:
                await call_hook(obj, "after_query", self.session)
        return objects

    async def first(self, model: type[Any] | None = None) -> Any:
        """The first matching row; raises ``NotFound`` when there is none.
        Cancelled: not run, or interrupted with nothing read; the engine stays usable."""
        found = await self.limit(1).find(model)
        if not found:
            _, mapper = self._mapper(model)
            raise NotFound(
                f"no {mapper.schema.table} row matches {[c for c, _ in self.conditions]}"
            )
        return found[0]

    def _select(self, mapper: Mapper) -> tuple[str, tuple[Any, ...]]:
        if not (self.joins or self.groups or self.havings):  # the common shape: SQL cached
            key = ("select", self._shape(), self.order, self.count_limit, self.skip, self.unscoped)
            sql = mapper.sql_cache.get(key)
            if sql is None:
                selected = clause.select(
                    mapper.schema, self._where(mapper), self.order, self.count_limit, self.skip
                )
                sql = mapper.remember(key, selected[0])
            return sql, self._params()
        text, params, tables = frame(self, mapper)
        schema = mapper.schema
        columns = ", ".join(tables.column(name)[0] for name in schema.names)
        tail = clause.tail(schema, self.order, self.count_limit, self.skip)
        return f"SELECT {columns}{text}{tail}", params

    # ------------------------------------------------------------ writes

    @overload
    async def update(self, values: dict[str, Any], /) -> int: ...
    @overload
    async def update(self, *pairs: Any) -> int: ...
    async def update(self, *args: Any) -> int:
        """``update({"age": 30})`` or ``update("age", 30, "name", "X")``; rows changed.
        Cancelled while waiting: not run; while running: interrupted, undone, ``Cancelled``
        raised; the engine stays usable (details: ``Engine``)."""
        model, mapper = self._writable("update")
        values = _update_values(args)
        stamp = mapper.stamped_on_update
        if stamp is not None and stamp not in values:
            values[stamp] = utc_now()
        key = ("update", tuple(values), self._shape(), self.unscoped)
        sql = mapper.sql_cache.get(key)
        if sql is None:
            for name in values:
                if mapper.schema.field(name) is None:
                    raise ValueError(f"{mapper.schema.table} has no column {name!r}")
            sql = mapper.remember(key, clause.update(mapper.schema, values, self._where(mapper))[0])
        params = (*(mapper.to_db(v) for v in values.values()), *self._params())
        if mapper.hooks["before_update"]:
            await call_hook(model, "before_update", self.session)
        count = await self.session.engine.execute(_rowcount(sql, params), sql, params)
        if mapper.hooks["after_update"]:
            await call_hook(model, "after_update", self.session)
        return int(count)

    async def delete(self) -> int:
        """Delete the matching rows; how many. With ``orm.deleted_at()`` on the model,
        mark them deleted instead (``with_deleted().delete()`` or ``hard_delete()``
        removes them). Cancelled while waiting: not run; while running: interrupted,
        undone, ``Cancelled`` raised; the engine stays usable (details: ``Engine``)."""
        _, mapper = self._writable("delete")
        if mapper.soft_delete is not None and not self.unscoped:
            deleted = mapper.schema.with_role("deleted_at")
            assert deleted is not None
            return await self.update({deleted.name: utc_now()})
        return await self.hard_delete()

    async def hard_delete(self) -> int:
        """Remove the matching rows for good, soft-deleted ones included. Cancelled:
        as ``delete``."""
        model, mapper = self._writable("hard_delete")
        if mapper.hooks["before_delete"]:
            await call_hook(model, "before_delete", self.session)
        sql, params = clause.delete(mapper.schema, self.conditions)
        count = await self.session.engine.execute(_rowcount(sql, params), sql, params)
        if mapper.hooks["after_delete"]:
            await call_hook(model, "after_delete", self.session)
        return int(count)

    # ------------------------------------------------------------ tables

    async def create_table(self) -> None:
        """``CREATE TABLE`` for the model, and its ``__indexes__`` (then all in one
        transaction). Cancelled: created or not, never half."""
        _, mapper = self._mapper()
        sql = clause.create_table(mapper.schema)
        if not mapper.schema.indexes:
            await self.session.engine.execute(_rowcount(sql, ()), sql, ())
            return
        indexes = [clause.create_index(mapper.schema, i) for i in mapper.schema.indexes]

        async def create(session: Session) -> None:
            for statement in (sql, *indexes):
                await session.raw(statement).exec()

        await self.session.engine.run_transaction(create, foreign_keys_off=False)

    async def drop_table(self) -> None:
        """Drop the model's table; a missing table is not an error. Cancelled: dropped
        or not, never half."""
        _, mapper = self._mapper()
        sql = clause.drop_table(mapper.schema)
        await self.session.engine.execute(_rowcount(sql, ()), sql, ())

    async def has_table(self) -> bool:
        """Whether the model's table exists. Cancelled: nothing happened."""
        _, mapper = self._mapper()
        sql, params = self.session.engine.dialect.table_exists_sql(mapper.schema.table)
        row = await self.session.engine.execute(_fetchone(sql, params), sql, params)
        return row is not None


def _update_values(args: Sequence[Any]) -> dict[str, Any]:
    if len(args) == 1 and isinstance(args[0], dict):
        values = dict(args[0])
    elif args and len(args) % 2 == 0:
        values = dict(zip(args[::2], args[1::2], strict=True))
    else:
        raise ValueError('update() takes a dict or column/value pairs: update("age", 30)')
    if not values or not all(isinstance(k, str) for k in values):
        raise ValueError("update() needs column names (str) and values")
    return values
