"""Model hooks: optional methods, sync or async, taking the session.

Instance hooks (``self, session``): ``before_insert``, ``after_insert``, ``after_query``.
Table hooks (classmethods, ``cls, session``): ``before_query``, ``before_update``,
``after_update``, ``before_delete``, ``after_delete``.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["INSTANCE_HOOKS", "TABLE_HOOKS", "call_hook", "has_hook"]

INSTANCE_HOOKS = ("before_insert", "after_insert", "after_query")
TABLE_HOOKS = ("before_query", "before_update", "after_update", "before_delete", "after_delete")


def has_hook(model: type, name: str) -> bool:
    return callable(getattr(model, name, None))


async def call_hook(target: Any, name: str, session: Any) -> None:
    result = getattr(target, name)(session)
    if inspect.isawaitable(result):
        await result
