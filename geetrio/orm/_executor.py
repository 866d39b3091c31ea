"""What sessions, transactions and migrations need of an engine — its dialect, its
models' mappers, running a statement, running a transaction — as a protocol, so those
modules depend on this small contract and never import the engine back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ._dialect import Dialect
from ._mapper import Mapper
from ._types import Job

__all__ = ["Executor"]

T = TypeVar("T")


class Executor(Protocol):
    """``orm.Engine`` is one."""

    dialect: Dialect

    @property
    def closed(self) -> bool: ...

    def mapper(self, model: type) -> Mapper: ...

    async def execute(self, job: Job[T], sql: str, params: Any) -> T: ...

    async def run_transaction(
        self, fn: Callable[[Any], Awaitable[T]], *, foreign_keys_off: bool
    ) -> T:
        """``fn(session)`` in a transaction (the engine's ``transaction`` with options)."""
        ...
