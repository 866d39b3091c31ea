"""Type aliases shared across ``geetrio.http``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._message import Request, Response

__all__ = ["Handler"]

Handler = Callable[[Request], Awaitable[Response | None]]
"""``async def handler(request) -> Response``; ``None`` only after ``transport.detach()``."""
