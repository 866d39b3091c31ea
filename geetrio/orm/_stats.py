"""Seeing the SQL: every statement timed, logged with its duration (DEBUG), slow ones
at WARNING past the engine's ``slow_threshold``; ``count_queries()`` counts the
statements a block of code issues — the test that proves there is no N+1.

Counters live in a context variable, so a count covers the block's task and the tasks
it starts (trio copies the context into them), and nothing of other tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["QueryCount", "count_queries", "record"]

log = logging.getLogger("geetrio.orm")

_counters: ContextVar[tuple[QueryCount, ...]] = ContextVar("geetrio_orm_counters", default=())


@dataclass
class QueryCount:
    """The statements counted so far: ``count`` and their ``statements`` (SQL text)."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[QueryCount]:
    """``with orm.count_queries() as counted: ...``: every statement any engine runs
    for this task (and the tasks it starts) inside the block, in ``counted``."""
    counted = QueryCount()
    token = _counters.set((*_counters.get(), counted))
    try:
        yield counted
    finally:
        _counters.reset(token)


def record(sql: str, params: Any, seconds: float, slow_threshold: float | None) -> None:
    """A statement ran for ``seconds``: count it, log it."""
    for counted in _counters.get():
        counted.statements.append(sql)
    if slow_threshold is not None and seconds >= slow_threshold:
        log.warning("slow statement (%.3f s): %s %s", seconds, sql, _shown(params))
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("%s %s (%.3f ms)", sql, _shown(params), seconds * 1000)


def _shown(params: Any) -> str:
    return f"<{len(params)} rows>" if isinstance(params, list) else repr(params)
