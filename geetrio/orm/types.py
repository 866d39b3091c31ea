"""Type aliases shared across ``geetrio.orm``. A leaf: imports nothing of ours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Condition", "Job", "Statement"]

T = TypeVar("T")

Job = Callable[[Any], T]
"""What runs in the worker thread: a function of the connection (a
``sqlite3.Connection``, or the PostgreSQL backend's view with the same ``execute``,
``executemany`` and ``in_transaction``)."""

Condition = tuple[str, tuple[Any, ...]]
"""A ``where()`` fragment and its ``?`` values."""

Statement = tuple[str, tuple[Any, ...]]
"""SQL text and its parameters."""
