"""What a query reads besides whole objects (the ``Reads`` half of ``Query``): whether
a row exists, aggregates, some columns, a page.

Columns are named as the model's fields (checked, then quoted); aggregates honour
``limit``/``offset`` (over a subquery then) and ``where``; ``order_by`` orders
``pluck``/``values``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import clause
from ._jobs import _fetchall, _fetchone
from .schema import Schema, from_db_value

if TYPE_CHECKING:
    from ._mapper import Mapper
    from ._types import Condition

__all__ = ["Page", "Reads"]

M = TypeVar("M")
AGGREGATES = ("sum", "min", "max", "avg")


@dataclass(frozen=True)
class Page(Generic[M]):
    """One page of a query (``paginate``): its ``items``, and where it stands."""

    items: list[M]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page) if self.total else 0

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class Reads:
    """``Query``'s reads of something else than whole objects."""

    session: Any  # the query's ``Session``
    conditions: tuple[Condition, ...]
    order: str | None
    count_limit: int | None
    skip: int

    if TYPE_CHECKING:

        def _mapper(self, model: type[Any] | None = None) -> tuple[type[Any], Mapper]: ...
        def _params(self) -> tuple[Any, ...]: ...
        def limit(self, count: int) -> Any: ...
        def offset(self, count: int) -> Any: ...
        async def count(self) -> int: ...
        async def find(self, model: type[Any] | None = None) -> list[Any]: ...

    async def exists(self) -> bool:
        """Whether any row matches. Cancelled: not run, or interrupted with nothing
        read; the engine stays usable."""
        schema = self._mapper()[1].schema
        where, params = clause.where_sql(self.conditions)
        sql = f"SELECT 1 FROM {schema.quoted_table}{where} LIMIT 1"
        return await self._one(sql, params) is not None

    async def sum(self, column: str) -> Any:
        """``SUM(column)`` of the matching rows (None when none). Cancelled: as ``exists``."""
        return await self._aggregate("sum", column)

    async def min(self, column: str) -> Any:
        """The smallest value of ``column`` (None when no row matches). Cancelled: as
        ``exists``."""
        return await self._aggregate("min", column)

    async def max(self, column: str) -> Any:
        """The largest value of ``column`` (None when no row matches). Cancelled: as
        ``exists``."""
        return await self._aggregate("max", column)

    async def avg(self, column: str) -> float | None:
        """The mean of ``column`` as a float (None when no row matches). Cancelled: as
        ``exists``."""
        value = await self._aggregate("avg", column)
        return None if value is None else float(value)

    async def pluck(self, column: str) -> list[Any]:
        """One column of every matching row, in order (gorm's ``Pluck``). Cancelled:
        as ``exists``."""
        return [row[0] for row in await self.values(column)]

    async def values(self, *columns: str) -> list[tuple[Any, ...]]:
        """Some columns of every matching row, as tuples (peewee's ``tuples()``).
        Cancelled: as ``exists``."""
        if not columns:
            raise ValueError("values() needs at least one column")
        schema = self._mapper()[1].schema
        fields = [_field(schema, name) for name in columns]
        where, params = clause.where_sql(self.conditions)
        listed = ", ".join(f.quoted for f in fields)
        tail = clause.tail(schema, self.order, self.count_limit, self.skip)
        sql = f"SELECT {listed} FROM {schema.quoted_table}{where}{tail}"
        rows = await self._all(sql, params)
        readers = [from_db_value(f) for f in fields]
        return [tuple(read(v) for read, v in zip(readers, row, strict=True)) for row in rows]

    async def paginate(self, page: int, per_page: int) -> Page[Any]:
        """Page ``page`` (from 1) of ``per_page`` rows, with the total of matching rows
        (two statements). Give ``order_by`` for pages that do not overlap. Cancelled:
        as ``exists``."""
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise ValueError(f"paginate() needs a page from 1, not {page!r}")
        if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
            raise ValueError(f"paginate() needs a positive per_page, not {per_page!r}")
        total = await self.count()
        items = await self.limit(per_page).offset((page - 1) * per_page).find()
        return Page(items, page, per_page, total)

    async def _aggregate(self, function: str, column: str) -> Any:
        schema = self._mapper()[1].schema
        quoted = _field(schema, column).quoted
        where, params = clause.where_sql(self.conditions)
        if self.count_limit is None and not self.skip:
            sql = f"SELECT {function}({quoted}) FROM {schema.quoted_table}{where}"
        else:  # over the rows the limit and offset leave
            tail = clause.tail(schema, self.order, self.count_limit, self.skip)
            inner = f"SELECT {quoted} AS v FROM {schema.quoted_table}{where}{tail}"
            sql = f"SELECT {function}(v) FROM ({inner}) AS limited"
        row = await self._one(sql, params)
        return None if row is None else row[0]

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        return await self.session.engine.execute(_fetchone(sql, params), sql, params)

    async def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        rows: list[Any] = await self.session.engine.execute(_fetchall(sql, params), sql, params)
        return rows


def _field(schema: Schema, name: str) -> Any:
    found = schema.field(name)
    if found is None:
        raise ValueError(f"{schema.table} has no column {name!r}")
    return found
