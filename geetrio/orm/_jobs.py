"""Jobs: what runs in the worker thread for one statement, built so each closes over
its own values (``Engine.execute(job, sql, params)`` runs them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._types import DBConnection

__all__ = ["_fetchall", "_fetchone", "_rowcount"]


def _rowcount(sql: str, params: Any) -> Callable[[DBConnection], int]:
    return lambda conn: conn.execute(sql, params).rowcount


def _fetchall(sql: str, params: Any) -> Callable[[DBConnection], list[Any]]:
    return lambda conn: conn.execute(sql, params).fetchall()


def _fetchone(sql: str, params: Any) -> Callable[[DBConnection], Any]:
    return lambda conn: conn.execute(sql, params).fetchone()
