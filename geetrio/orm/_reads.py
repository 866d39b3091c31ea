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

import trio

from . import clause
from ._errors import ORMError
from ._jobs import _fetchall, _fetchone
from ._joins import frame
from ._names import aggregate_reader, read_rows

if TYPE_CHECKING:
    from ._joins import Join
    from ._mapper import Mapper
    from ._types import Condition

__all__ = ["Page", "Reads"]

M = TypeVar("M")


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
    joins: tuple[Join, ...]
    groups: tuple[str, ...]

    if TYPE_CHECKING:

        def _mapper(self, model: type[Any] | None = None) -> tuple[type[Any], Mapper]: ...
        def _params(self) -> tuple[Any, ...]: ...
        def _where(self, mapper: Mapper) -> tuple[Condition, ...]: ...
        def limit(self, count: int) -> Any: ...
        def offset(self, count: int) -> Any: ...
        async def find(self, model: type[Any] | None = None) -> list[Any]: ...

    async def exists(self) -> bool:
        """Whether any row matches. Cancelled: not run, or interrupted with nothing
        read; the engine stays usable."""
        text, params, _ = frame(self, self._mapper()[1])
        return await self._one(f"SELECT 1{text} LIMIT 1", params) is not None

    async def count(self) -> int:
        """The number of matching rows (of groups, with ``group_by``). Cancelled: as
        ``exists``."""
        text, params, _ = frame(self, self._mapper()[1])
        if self.groups:
            sql = f"SELECT count(*) FROM (SELECT 1{text}) AS grouped"
        else:
            sql = f"SELECT count(*){text}"
        return int((await self._one(sql, params))[0])

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
        """Some columns of every matching row, as tuples (peewee's ``tuples()``): a
        column ``"name"``, a joined one ``"posts.title"``, or an aggregate ``"count(*)"``,
        ``"sum(posts.words)"`` (per group with ``group_by``). Cancelled: as ``exists``."""
        if not columns:
            raise ValueError("values() needs at least one column")
        mapper = self._mapper()[1]
        text, params, tables = frame(self, mapper)
        selected = [tables.expression(name) for name in columns]
        listed = ", ".join(sql for sql, _ in selected)
        tail = clause.tail(mapper.schema, self.order, self.count_limit, self.skip)
        rows = await self._all(f"SELECT {listed}{text}{tail}", params)
        return read_rows(rows, [read for _, read in selected])

    def iterate(self, batch: int = 1000) -> Batches:
        """``async for obj in query.iterate():`` every matching row, ``batch`` rows a
        statement, so memory stays bounded however many rows match. Without
        ``order_by`` (and with a primary key) the batches follow the key (``WHERE pk >
        last ORDER BY pk LIMIT batch``: each as fast as the first); with ``order_by``,
        ``LIMIT``/``OFFSET``. No connection is held between batches (a slow consumer
        blocks nobody), so rows written meanwhile may or may not be seen. Cancelled: as
        every statement; the engine stays usable. ``limit`` and ``offset`` apply."""
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise ValueError(f"iterate() needs a positive batch size, not {batch!r}")
        return Batches(self, batch)

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
        if self.groups:
            raise ORMError(
                f"{function}() of a grouped query: read each group's with "
                f"values(..., '{function}({column})')"
            )
        mapper = self._mapper()[1]
        text, params, tables = frame(self, mapper)
        quoted, field = tables.column(column)
        if self.count_limit is None and not self.skip:
            sql = f"SELECT {function}({quoted}){text}"
        else:  # over the rows the limit and offset leave
            tail = clause.tail(mapper.schema, self.order, self.count_limit, self.skip)
            sql = f"SELECT {function}(v) FROM (SELECT {quoted} AS v{text}{tail}) AS limited"
        row = await self._one(sql, params)
        return aggregate_reader(function, field)(None if row is None else row[0])

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        return await self.session.engine.execute(_fetchone(sql, params), sql, params)

    async def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        rows: list[Any] = await self.session.engine.execute(_fetchall(sql, params), sql, params)
        return rows


class Batches:
    """The async iterator ``Query.iterate`` returns (a class, not a generator: nothing
    to finalize when a loop breaks off)."""

    def __init__(self, query: Any, batch: int) -> None:
        self.query = query
        self.batch = batch
        self.rows: list[Any] = []
        self.given = 0  # rows given so far
        self.last: Any = None  # the key of the last row (keyset batches)
        self.done = False
        _, mapper = query._mapper()
        primary = mapper.schema.primary_key
        if primary is None or query.order is not None:
            self.key = None
        elif query.joins or query.groups:  # a key may repeat: LIMIT/OFFSET, by key
            self.key = None
            self.query = query.order_by(frame(query, mapper)[2].column(primary.name)[0])
        else:
            self.key = primary.name

    def __aiter__(self) -> Batches:
        return self

    async def __anext__(self) -> Any:
        await trio.lowlevel.checkpoint_if_cancelled()  # cancellable between any two rows
        if not self.rows:
            if self.done:
                raise StopAsyncIteration
            await self._fetch()
            if not self.rows:
                raise StopAsyncIteration
        self.given += 1
        return self.rows.pop()

    async def _fetch(self) -> None:
        query = self.query
        limit = query.count_limit
        size = self.batch if limit is None else min(self.batch, limit - self.given)
        if size <= 0:
            self.done = True
            return
        if self.key is None:
            page = query.limit(size).offset(query.skip + self.given)
        else:
            page = query.order_by(f"{_quoted(query, self.key)}").limit(size)
            page = page.offset(query.skip if self.given == 0 else 0)
            if self.last is not None:
                page = page.where(f"{_quoted(query, self.key)} > ?", self.last)
        found = await page.find()
        if len(found) < size:
            self.done = True
        if found and self.key is not None:
            self.last = getattr(found[-1], self.key)
        found.reverse()  # popped from the end, in order
        self.rows = found


def _quoted(query: Any, name: str) -> str:
    return str(query._mapper()[1].schema.field(name).quoted)
