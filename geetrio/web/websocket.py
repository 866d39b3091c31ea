"""WebSocket routes on the HTTP server's own port, through trio-websocket.

The HTTP core has parsed the upgrade request already; trio-websocket wants to read it
itself, so the handler takes the connection over with ``transport.detach()``, which
replays the request head and any bytes that followed it (TRIO-NOTES §5). The route's
middleware runs first, like for any route; a middleware that fails the request
(``c.fail(401, ...)``) answers over plain HTTP and no upgrade happens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio
import trio_websocket

from .context import Context, HandlerFunc

__all__ = ["HANDSHAKE_TIMEOUT", "WebSocketHandler", "websocket_endpoint"]

log = logging.getLogger("geetrio.web")

WebSocketHandler = Callable[[Context, trio_websocket.WebSocketConnection], Awaitable[None]]
HANDSHAKE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0


def websocket_endpoint(handler: WebSocketHandler) -> HandlerFunc:
    """Wrap ``async def handler(c, ws)`` as the final handler of a GET route.

    The handler returning closes with 1000; raising logs the traceback and closes
    with 1011. A plain GET without an upgrade gets 426 Upgrade Required.
    """

    async def endpoint(c: Context) -> None:
        request = c.request
        if not request.upgrade or c.headers.get("upgrade", "").lower() != "websocket":
            c.set_header("upgrade", "websocket")
            c.string(426, "426 Upgrade Required: this is a WebSocket endpoint\n")
            return
        assert request.transport is not None
        stream = request.transport.detach()
        c.detached = True
        c.status_code = 101
        async with trio.open_nursery() as nursery:
            try:
                with trio.fail_after(HANDSHAKE_TIMEOUT):
                    ws_request = await trio_websocket.wrap_server_stream(nursery, stream)
                    ws = await ws_request.accept()
            except (trio.TooSlowError, trio_websocket.ConnectionClosed) as exc:
                log.info("WebSocket handshake on %s failed: %r", c.path, exc)
                nursery.cancel_scope.cancel()
                return
            try:
                await handler(c, ws)
            except trio_websocket.ConnectionClosed as exc:
                log.debug("WebSocket %s closed by the peer: %s", c.path, exc.reason)
            except Exception:
                log.exception("WebSocket handler for %s failed", c.path)
                with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                    await ws.aclose(code=1011, reason="Internal Error")
            finally:
                with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
                    await ws.aclose(code=1000)

    return endpoint
