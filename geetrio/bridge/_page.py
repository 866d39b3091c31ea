"""One connected tab (``Page``) and the JS functions it passes (``Callback``): round trips
from Python to the page. The bridge (``_bridge.py``) reads the tab's messages and hands
answers over with ``deliver``; ``mark_closed`` when the tab goes away."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio
import trio_websocket

from ._errors import BridgeError, PageClosed
from .protocol import Reply, encode, operation

__all__ = ["Callback", "EventHandler", "Page", "PageScript"]

log = logging.getLogger("geetrio.bridge")

PageScript = Callable[["Page"], Awaitable[None]]
EventHandler = Callable[[dict[str, Any]], Awaitable[None] | None]


class Callback:
    """A JS function the page passed as an argument: ``await callback(value)``."""

    def __init__(self, page: Page, number: int) -> None:
        self._page = page
        self.number = number

    async def __call__(self, *args: Any) -> Any:
        """Call the JS function with ``args``; its return value. Cancelled: as every
        ``Page`` request, the call may have happened; its answer is dropped."""
        return await self._page.request(
            operation("callback", callback=self.number, args=list(args))
        )


class Page:
    """One connected tab. Its methods are round trips to the page; each raises
    ``BridgeError`` when the page fails and ``PageClosed`` when the tab goes away.
    Cancelled: the request may have reached the page; its answer is dropped."""

    def __init__(
        self,
        ws: trio_websocket.WebSocketConnection,
        name: str,
        nursery: trio.Nursery,
        *,
        peer_certificate: dict[str, Any] | None = None,
        remote_addr: str = "",
    ) -> None:
        self.name = name
        # Who opened it: the browser's address, and its certificate over mutual TLS.
        self.peer_certificate = peer_certificate
        self.remote_addr = remote_addr
        self._ws = ws
        self._nursery = nursery
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[trio.Event, list[Reply]]] = {}
        self._handlers: dict[int, EventHandler] = {}
        self._subscribing: list[trio.Event] = []
        self._ready_sent = False
        self.closed = False
        self.running = 0  # function calls and event handlers of this tab running now

    async def request(self, message: dict[str, Any]) -> Any:
        """Send ``message`` (an ``operation(...)``) and wait for the page's answer.
        Cancelled: the page may have done it; its answer is dropped."""
        if self.closed:
            raise PageClosed(f"page {self.name!r} is closed")
        number = next(self._ids)
        done, box = self._pending[number] = (trio.Event(), [])
        try:
            await self._ws.send_message(encode({"id": number, **message}))
            await done.wait()
        except trio_websocket.ConnectionClosed:
            raise PageClosed(f"page {self.name!r} closed") from None
        finally:
            self._pending.pop(number, None)
        if not box:
            raise PageClosed(f"page {self.name!r} closed before it answered")
        reply = box[0]
        if reply.error is not None:
            raise BridgeError(reply.error)
        return reply.value

    async def alert(self, text: str) -> None:
        """``alert(text)`` in the page; returns when the user dismissed it. Cancelled:
        the alert may be showing still."""
        await self.request(operation("alert", text=str(text)))

    async def get(self, selector: str, prop: str) -> Any:
        """``document.querySelector(selector)[prop]``. Cancelled: nothing changed."""
        return await self.request(operation("get", selector=selector, prop=prop))

    async def set(self, selector: str, prop: str, value: Any) -> None:
        """``document.querySelector(selector)[prop] = value``. Cancelled: the page may
        have set it."""
        await self.request(operation("set", selector=selector, prop=prop, value=value))

    def handler(self, number: int) -> EventHandler | None:
        """The bridge's side: the handler subscribed as ``number``, if any."""
        return self._handlers.get(number)

    def on(self, selector: str, event: str, handler: EventHandler) -> None:
        """Call ``handler(details)`` (sync or async, in the tab's nursery) on each
        ``event`` of ``selector``; the subscription is sent in the background."""
        number = next(self._ids)
        self._handlers[number] = handler
        done = trio.Event()
        self._subscribing.append(done)
        message = operation("on", selector=selector, event=event, handler=number)
        self._nursery.start_soon(self._subscribe, message, done)

    async def _subscribe(self, message: dict[str, Any], done: trio.Event) -> None:
        try:
            await self.request(message)
        except PageClosed:
            pass
        except BridgeError as exc:  # no such element: the handler never fires
            log.warning(
                "bridge: page %r: cannot listen to %s: %s", self.name, message["selector"], exc
            )
        finally:
            done.set()

    async def ready(self) -> None:
        """Tell the page its Python side is set up (it sets ``data-ready``). Sent
        automatically when the page script returns. Cancelled: it may not have been
        sent; it is not sent again."""
        if not self._ready_sent:
            self._ready_sent = True
            for subscribed in self._subscribing:  # listening before it says it is ready
                await subscribed.wait()
            await self.request(operation("ready"))

    def deliver(self, reply: Reply) -> None:
        """The bridge's side: the page answered request ``reply.id``."""
        waiter = self._pending.get(reply.id)
        if waiter is not None:  # else: a late answer to a cancelled request
            done, box = waiter
            box.append(reply)
            done.set()

    def mark_closed(self) -> None:
        """The bridge's side: the tab went away; pending requests raise ``PageClosed``."""
        self.closed = True
        for done, _ in self._pending.values():
            done.set()  # an empty box: PageClosed
