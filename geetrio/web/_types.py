"""Type aliases shared across ``geetrio.web``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio_websocket

from ._context import Context, HandlerFunc

__all__ = ["Decorator", "HandlerFunc", "WebSocketHandler"]

Decorator = Callable[[HandlerFunc], HandlerFunc]

WebSocketHandler = Callable[[Context, trio_websocket.WebSocketConnection], Awaitable[None]]
"""``async def handler(c, ws)`` of a WebSocket route."""
