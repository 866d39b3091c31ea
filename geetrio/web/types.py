"""Type aliases shared across ``geetrio.web``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio_websocket

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Decorator", "HandlerFunc", "WebSocketHandler"]

HandlerFunc = Callable[["Context"], Awaitable[None]]
"""A handler or middleware: ``async def handler(c: Context) -> None``."""

Decorator = Callable[[HandlerFunc], HandlerFunc]

WebSocketHandler = Callable[["Context", trio_websocket.WebSocketConnection], Awaitable[None]]
"""``async def handler(c, ws)`` of a WebSocket route."""
