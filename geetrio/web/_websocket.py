"""WebSocket routes on the HTTP server's own port, through trio-websocket.

The HTTP core has parsed the upgrade request already; trio-websocket wants to read it
itself, so the handler takes the connection over with ``transport.detach()``, which
replays the request head and any bytes that followed it (docs/architecture.md, trio
fact 5). The route's middleware runs first, like for any route; a middleware that fails
the request (``c.fail(401, ...)``) answers over plain HTTP and no upgrade happens.
"""

from __future__ import annotations

import logging

import trio
import trio_websocket

from .._core.text import shorten
from ._context import Context
from ._types import HandlerFunc, WebSocketHandler

__all__ = [
    "HANDSHAKE_TIMEOUT",
    "IDLE_TIMEOUT",
    "PING_INTERVAL",
    "WebSocketHandler",
    "websocket_endpoint",
]

log = logging.getLogger("geetrio.web")

HANDSHAKE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
PING_INTERVAL = 20.0  # seconds between the server's pings
IDLE_TIMEOUT = 20.0  # seconds a ping may wait for its pong before the peer counts as gone
MAX_MESSAGE_BYTES = 1 << 20  # a bigger message closes the connection with 1009


def websocket_endpoint(
    handler: WebSocketHandler,
    *,
    ping_interval: float | None = PING_INTERVAL,
    idle_timeout: float = IDLE_TIMEOUT,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> HandlerFunc:
    """Wrap ``async def handler(c, ws)`` as the final handler of a GET route.

    The handler returning closes with 1000; raising logs the traceback and closes
    with 1011. A plain GET without an upgrade gets 426 Upgrade Required. Every
    ``ping_interval`` seconds the server pings; a peer that has not answered within
    ``idle_timeout`` is gone (a dead network, a suspended laptop): the handler is
    cancelled and the connection closed with 1001. ``ping_interval=None`` turns
    this off. A message over ``max_message_bytes`` closes the connection with 1009.
    """
    if ping_interval is not None and ping_interval <= 0:
        raise ValueError("ping_interval must be positive or None")
    if idle_timeout <= 0:
        raise ValueError("idle_timeout must be positive")

    async def endpoint(c: Context) -> None:
        request = c.request
        if not request.upgrade or c.headers.get("upgrade", "").lower() != "websocket":
            c.set_header("upgrade", "websocket")
            c.string(426, "426 Upgrade Required: this is a WebSocket endpoint\n")
            return
        stream = c.detach(status=101)
        async with trio.open_nursery() as nursery:
            try:
                with trio.fail_after(HANDSHAKE_TIMEOUT):
                    ws_request = await trio_websocket.wrap_server_stream(
                        nursery, stream, max_message_size=max_message_bytes
                    )
                    ws = await ws_request.accept()
            except (trio.TooSlowError, trio_websocket.ConnectionClosed) as exc:
                log.info("WebSocket handshake on %s failed: %r", shorten(c.path), exc)
                nursery.cancel_scope.cancel()
                return
            handler_scope, watcher_scope = trio.CancelScope(), trio.CancelScope()
            if ping_interval is not None:
                nursery.start_soon(
                    _watch_peer, ws, ping_interval, idle_timeout, handler_scope, watcher_scope
                )
            try:
                with handler_scope:
                    await handler(c, ws)
            except trio_websocket.ConnectionClosed as exc:
                log.debug(
                    "WebSocket %s closed by the peer: %s", shorten(c.path), shorten(exc.reason)
                )
            except Exception:
                log.exception("WebSocket handler for %s failed", shorten(c.path))
                with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                    await ws.aclose(code=1011, reason="Internal Error")
            finally:
                watcher_scope.cancel()
                with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                    await ws.aclose(code=1000)

    return endpoint


async def _watch_peer(
    ws: trio_websocket.WebSocketConnection,
    interval: float,
    idle_timeout: float,
    handler_scope: trio.CancelScope,
    watcher_scope: trio.CancelScope,
) -> None:
    """Ping every ``interval``; no pong within ``idle_timeout``: close and cancel.
    Runs until ``watcher_scope`` is cancelled (the handler is done)."""
    with watcher_scope:
        await _ping_until_silent(ws, interval, idle_timeout, handler_scope)


async def _ping_until_silent(
    ws: trio_websocket.WebSocketConnection,
    interval: float,
    idle_timeout: float,
    handler_scope: trio.CancelScope,
) -> None:
    try:
        while True:
            await trio.sleep(interval)
            with trio.move_on_after(idle_timeout) as waited:
                await ws.ping()
            if waited.cancelled_caught:
                log.info("WebSocket peer gave no pong within %s s: closing", idle_timeout)
                # The close frame first: the handler, woken by it, may cancel us.
                with trio.move_on_after(CLOSE_TIMEOUT):
                    await ws.aclose(code=1001, reason="ping timeout")
                handler_scope.cancel()  # a handler not waiting on the socket
                return
    except trio_websocket.ConnectionClosed:
        return  # the connection ended; the handler finds out for itself
