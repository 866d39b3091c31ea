"""The ORM's metrics (issue 20): statements by dialect, kind (select, insert, update,
delete, other) and outcome (ok, error, cancelled) with their durations, and
transactions by outcome (commit, rollback). Kept in this module's dicts — a lookup and
a few increments per statement — and read by the process registry when scraped."""

from __future__ import annotations

from bisect import bisect_left

from ..metrics import DEFAULT_BUCKETS, REGISTRY

__all__ = ["statement", "transaction"]

_KINDS = {"SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
_statements: dict[tuple[str, str, str], int] = {}
_durations: dict[tuple[str, str], list[float]] = {}  # counts per bucket, then the sum
_transactions: dict[tuple[str, str], int] = {}


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
