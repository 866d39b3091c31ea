"""Errors a handler raises to answer at once: ``HTTPException`` and binding's ``BindError``.

The context catches them where the handler was called (``Context.next``), so every
middleware around that handler sees an ordinary answer — a logger logs the 400, CORS
headers set before stay — and ``recovery()`` never turns them into a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["BindError", "HTTPException"]


class HTTPException(Exception):
    """``raise web.HTTPException(404, "no such user")``: answer JSON ``{"message": ...}``
    (plus ``extra`` fields) with ``status``, and stop the handlers not yet run."""

    def __init__(self, status: int, message: str = "", **extra: Any) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"HTTPException needs a 4xx or 5xx status, got {status}")
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.message = message or f"HTTP {status}"
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


class BindError(HTTPException, ValueError):
    """A body or query string that does not fit the model: 400, with ``errors``, one
    ``{"path": "items[0].qty", "message": "expected int, got string 'x'"}`` per field."""

    def __init__(self, problems: Sequence[tuple[str, str]], message: str = "") -> None:
        errors = [{"path": path, "message": text} for path, text in problems]
        super().__init__(400, message or "invalid request", errors=errors)
        self.errors = errors
