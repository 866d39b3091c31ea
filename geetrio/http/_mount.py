"""Mounting routes on an app without importing the web framework: the cache's peer
protocol, the RPC server's CONNECT and debug routes and the registry all mount through
``Routes`` and answer through ``RouteContext``; ``geetrio.web.Engine`` and ``Context``
are one of each. So no package below the web framework depends on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from ._headers import Headers
from ._message import Request

__all__ = ["RouteContext", "RouteHandler", "Routes"]


class RouteContext(Protocol):
    """What a mounted route reads of its request and how it answers."""

    request: Request

    @property
    def method(self) -> str: ...

    @property
    def headers(self) -> Headers: ...

    def status(self, code: int) -> None: ...

    def set_header(self, key: str, value: str) -> None: ...

    def string(self, code: int, fmt: str, *values: object) -> None: ...

    def data(self, code: int, body: bytes) -> None: ...

    def detach(self, *, replay_head: bool = True, status: int = 0) -> trio.abc.Stream: ...


RouteHandler = Callable[[Any], Awaitable[None]]
"""A handler taking the app's context (a ``RouteContext``)."""


class Routes(Protocol):
    """Where routes are added (``geetrio.web.Engine``, a ``RouterGroup``)."""

    def add_route(self, method: str, pattern: str, handler: RouteHandler) -> Any: ...
