"""``session.raw(sql, *args)``: SQL you write yourself, values as ``?`` parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._jobs import _fetchall, _fetchone, _rowcount

__all__ = ["Raw"]


@dataclass(frozen=True, slots=True)
class Raw:
    """``session.raw(sql, *args)``: SQL you write, values as ``?`` parameters."""

    session: Any  # the Session it came from
    sql: str
    args: tuple[Any, ...]

    async def exec(self) -> int:
        """Run it; the number of rows affected. Cancelled
        while waiting: not run; while running: interrupted, undone, ``Cancelled``
        raised; the engine stays usable (details: ``Engine``)."""
        sql, args = self.sql, self.args
        return int(await self.session.engine.execute(_rowcount(sql, args), sql, args))

    async def query_row(self) -> tuple[Any, ...] | None:
        """The first row, or ``None``. Cancelled: not run, or interrupted with nothing
        read; the engine stays usable."""
        sql, args = self.sql, self.args
        row = await self.session.engine.execute(_fetchone(sql, args), sql, args)
        return tuple(row) if row is not None else None

    async def query_rows(self) -> list[tuple[Any, ...]]:
        """Every row. Cancelled: not run, or interrupted with nothing read; the engine
        stays usable."""
        sql, args = self.sql, self.args
        rows = await self.session.engine.execute(_fetchall(sql, args), sql, args)
        return [tuple(r) for r in rows]
