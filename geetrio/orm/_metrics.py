"""The ORM's metrics (issue 20): statements by dialect, kind (select, insert, update,
delete, other) and outcome (ok, error, cancelled) with their durations, and
transactions by outcome (commit, rollback); and the connections of every open
PostgreSQL pool, in use and idle. Kept in this module's dicts — a lookup and a few
increments per statement — and read by the process registry when scraped."""

from __future__ import annotations

import weakref
from bisect import bisect_left
from typing import Protocol

from ..metrics import DEFAULT_BUCKETS, REGISTRY

__all__ = ["Pool", "pool", "statement", "transaction"]

_KINDS = {"SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
_statements: dict[tuple[str, str, str], int] = {}
_durations: dict[tuple[str, str], list[float]] = {}  # counts per bucket, then the sum
_transactions: dict[tuple[str, str], int] = {}


class Pool(Protocol):
    """What the pool gauges read of a pool of connections."""

    path: str  # its URL without the password: the ``database`` label
    closed: bool

    def usage(self) -> tuple[int, int, int]:
        """Connections in use, idle, and at most."""


_pools: weakref.WeakSet[Pool] = weakref.WeakSet()


def pool(opened: Pool) -> None:
    """Report ``opened``'s connections until it is closed (or gone)."""
    _pools.add(opened)


def statement(dialect: str, sql: str, outcome: str, seconds: float) -> None:
    """Count one statement that ran (or was interrupted) for ``seconds``."""
    kind = _KINDS.get(sql[:6].upper(), "other")
    key = (dialect, kind, outcome)
    _statements[key] = _statements.get(key, 0) + 1
    cells = _durations.get((dialect, kind))
    if cells is None:
        cells = _durations[(dialect, kind)] = [0.0] * (len(DEFAULT_BUCKETS) + 2)
    cells[bisect_left(DEFAULT_BUCKETS, seconds)] += 1
    cells[-1] += seconds


def transaction(dialect: str, outcome: str) -> None:
    """Count one transaction that ended in ``outcome`` (commit or rollback)."""
    key = (dialect, outcome)
    _transactions[key] = _transactions.get(key, 0) + 1


Series = dict[tuple[str, ...], object]


def _read_statements() -> Series:
    return dict(_statements.items())


def _read_durations() -> Series:
    return {key: ([int(c) for c in cells[:-1]], cells[-1]) for key, cells in _durations.items()}


def _read_transactions() -> Series:
    return dict(_transactions.items())


def _read_pools(column: int) -> Series:
    found: dict[tuple[str, ...], int] = {}
    for each in list(_pools):
        if not each.closed:
            usage = each.usage()
            if column == 2:
                found[(each.path,)] = found.get((each.path,), 0) + usage[2]
            else:
                key = (each.path, ("in_use", "idle")[column])
                found[key] = found.get(key, 0) + usage[column]
    return dict(found)


REGISTRY.counter(
    "geetrio_orm_statements_total",
    "SQL statements run, by dialect, kind and outcome.",
    ("dialect", "kind", "outcome"),
).readers.append(_read_statements)
REGISTRY.histogram(
    "geetrio_orm_statement_duration_seconds",
    "Seconds a statement took, waiting for its connection included.",
    ("dialect", "kind"),
).readers.append(_read_durations)
REGISTRY.counter(
    "geetrio_orm_transactions_total",
    "Transactions ended, by dialect and outcome (commit, rollback).",
    ("dialect", "outcome"),
).readers.append(_read_transactions)
connections = REGISTRY.gauge(
    "geetrio_orm_pool_connections",
    "Connections of the open PostgreSQL pools, by database and state (in_use, idle).",
    ("database", "state"),
)
connections.readers += [lambda: _read_pools(0), lambda: _read_pools(1)]
REGISTRY.gauge(
    "geetrio_orm_pool_max_connections",
    "The most connections the open PostgreSQL pools may hold, by database.",
    ("database",),
).readers.append(lambda: _read_pools(2))
