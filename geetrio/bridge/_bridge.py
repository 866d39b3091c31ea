"""Python on the server drives the page: ``Bridge`` (functions the page may call, the
WebSocket route, the JS client) and ``Page`` (one connected tab).

    bridge = Bridge()

    @bridge.function
    def fib(n: int) -> int: ...               # the page: await geetrio.call("fib", 10)

    @bridge.page("hello-world")
    async def hello(page: Page) -> None:      # runs for each tab of that page
        await page.alert("Hello World!")

    bridge.mount(app)                          # /_bridge/ws and /_bridge/client.js

Safety: the WebSocket handshake checks ``Host`` against the names the server is meant
to be reached by (``allowed_hosts``, loopback names by default: DNS rebinding) and
``Origin`` against the page's own origin (403 otherwise: cross-site WebSocket
hijacking); a message over ``max_message_bytes`` closes that connection with 1009
(the transport reads at most that plus ``TRANSPORT_MARGIN``), one that is not protocol
JSON with 1003; the page can call only registered functions, at most
``max_calls_per_page`` at a time (more are answered with an error at once), and
nothing it sends is ever evaluated.

Each tab is one connection and one task with a nursery of its own: its page script,
its function calls and its event handlers run there; a closed tab cancels them all and
fails the server's pending requests to it with ``PageClosed``. Inside
``async with bridge:`` those tasks run in the bridge's own nursery, so leaving the block
ends every page (without it, they run in their WebSocket route's task). A Python
exception in a function the page called is logged and reaches the page as a rejected
promise.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from importlib import resources
from typing import Any

import trio
import trio_websocket

from .._core.nursery import OwnsTasks
from .._core.text import limited, shorten
from ..web import Context, Engine, RouterGroup
from ._errors import PageClosed
from ._metrics import OTHER, BridgeStats
from ._page import Callback, EventHandler, Page, PageScript
from .protocol import BadMessage, Call, Event, Reply, decode, encode

__all__ = ["Bridge"]

log = logging.getLogger("geetrio.bridge")

DEFAULT_PATH = "/_bridge"
MAX_MESSAGE_BYTES = 1 << 20
# trio-websocket buffers a message up to the cap plus this, then closes with 1009 itself;
# a message just over the cap is read whole and refused here with a clean 1009.
TRANSPORT_MARGIN = 64 << 10
MAX_CALLS_PER_PAGE = 64  # function calls and event handlers running for one tab
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Bridge(OwnsTasks):
    """Functions the page may call, page scripts, and the route that serves them."""

    def __init__(
        self,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        max_calls_per_page: int = MAX_CALLS_PER_PAGE,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        """``allowed_hosts``: the host names (no port) a tab may reach the bridge by;
        ``None`` = the loopback names; ``"*"`` among them = any (behind a proxy that
        checks ``Host`` itself)."""
        if max_calls_per_page <= 0:
            raise ValueError("max_calls_per_page must be positive")
        self.max_message_bytes = max_message_bytes
        self.max_calls_per_page = max_calls_per_page
        hosts = LOOPBACK_HOSTS if allowed_hosts is None else allowed_hosts
        self.allowed_hosts = frozenset(h.strip("[]").lower() for h in hosts)
        self.functions: dict[str, Callable[..., Any]] = {}
        self.pages: dict[str, PageScript] = {}
        self.connected = 0  # tabs open now
        self.stats = BridgeStats()  # for the metrics

    def _closing(self) -> None:
        """Leaving ``async with bridge`` ends every page (their connections close
        with 1000)."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    def function(self, fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
        """Register ``fn`` for ``geetrio.call(name, ...)``; as ``@bridge.function`` or
        ``@bridge.function(name="other")``. Plain functions run in a worker thread."""

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self.functions[name or f.__name__] = f
            return f

        return register(fn) if fn is not None else register

    def page(self, name: str) -> Callable[[PageScript], PageScript]:
        """``@bridge.page("hello-world")``: run for each tab that opens that page."""

        def register(script: PageScript) -> PageScript:
            self.pages[name] = script
            return script

        return register

    def mount(self, app: Engine | RouterGroup, path: str = DEFAULT_PATH) -> None:
        """Serve the WebSocket at ``path/ws?page=NAME`` and the JS client at
        ``path/client.js``."""
        group = app.group(path)

        async def same_origin(c: Context) -> None:
            origin = c.headers.get("origin")
            host = c.headers.get("host", "")
            if not self.host_allowed(host):
                limited.warning(log, "bridge: refused a WebSocket for host %s", shorten(host))
                self.stats.refuse("host")
                c.fail(403, "forbidden host")
                return
            if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
                limited.warning(
                    log,
                    "bridge: refused a WebSocket from origin %s (host %s)",
                    shorten(origin),
                    shorten(host),
                )
                self.stats.refuse("origin")
                c.fail(403, "forbidden origin")
                return
            await c.next()

        async def client_js(c: Context) -> None:
            c.set_header("content-type", "text/javascript; charset=utf-8")
            c.set_header("cache-control", "no-cache")
            c.data(200, CLIENT_JS)

        group.get("/client.js", client_js)
        ws_routes = group.group("/ws")
        ws_routes.use(same_origin)
        # The transport takes a little more than the cap, so that a message just over it
        # is read whole and refused with a clean 1009 here (closing while the browser is
        # still sending makes its kernel see a reset: the page would get 1006). Far over
        # it, trio-websocket closes at cap + margin: that much is buffered at most.
        transport_limit = self.max_message_bytes + TRANSPORT_MARGIN
        ws_routes.websocket("", max_message_bytes=transport_limit)(self._serve_page)

    def host_allowed(self, host: str) -> bool:
        """Whether a ``Host`` header names this server (its port is not checked)."""
        if "*" in self.allowed_hosts:
            return True
        name = host.rpartition(":")[0] if host.rpartition(":")[2].isdigit() else host
        return name.strip("[]").lower() in self.allowed_hosts

    async def _serve_page(self, c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        name = c.query("page")
        who = (c.peer_certificate, c.remote_addr)  # for the page script
        nursery = self._nursery
        if nursery is None:
            await self._session(name, ws, who)
            return
        ended = trio.Event()

        async def session() -> None:
            try:
                await self._session(name, ws, who)
            finally:
                ended.set()

        nursery.start_soon(session)  # a task of the bridge; this route waits for its end
        await ended.wait()

    async def _session(
        self,
        name: str,
        ws: trio_websocket.WebSocketConnection,
        who: tuple[dict[str, Any] | None, str] = (None, ""),
    ) -> None:
        label = name if name in self.pages else OTHER
        self.connected += 1
        self.stats.opened(label, 1)
        try:
            async with trio.open_nursery() as nursery:
                page = Page(ws, name, nursery, peer_certificate=who[0], remote_addr=who[1])
                script = self.pages.get(name)
                nursery.start_soon(self._run_script, page, script)
                try:
                    await self._read(page, ws, nursery)
                finally:
                    page.mark_closed()
                    nursery.cancel_scope.cancel()
        finally:
            self.connected -= 1
            self.stats.opened(label, -1)

    async def _run_script(self, page: Page, script: PageScript | None) -> None:
        try:
            if script is not None:
                await script(page)
            await page.ready()
        except PageClosed:
            pass
        except Exception:
            log.exception("bridge: the script of page %r failed", page.name)

    async def _read(
        self, page: Page, ws: trio_websocket.WebSocketConnection, nursery: trio.Nursery
    ) -> None:
        while True:
            try:
                text = await ws.get_message()
            except trio_websocket.ConnectionClosed:
                return  # the tab closed (or sent more than the transport takes)
            try:
                if len(text) > self.max_message_bytes:  # characters: at most 4 bytes each
                    size = len(text.encode()) if isinstance(text, str) else len(text)
                    if size > self.max_message_bytes:
                        raise BadMessage(f"a message of {size} bytes is over the cap", 1009)
                message = decode(text)
            except BadMessage as exc:
                self.stats.refuse("too_large" if exc.code == 1009 else "bad_message")
                log.info("bridge: page %r sent a bad message (%s): closing", page.name, exc.reason)
                with trio.move_on_after(2.0):
                    await ws.aclose(code=exc.code, reason=exc.reason[:100])
                return
            if isinstance(message, Reply):
                page.deliver(message)
            elif isinstance(message, Call):
                if page.running >= self.max_calls_per_page:
                    await self._refuse(page, ws, message)
                else:
                    page.running += 1
                    nursery.start_soon(self._call, page, ws, message)
            elif isinstance(message, Event):
                handler = page.handler(message.handler)
                if handler is None:
                    continue
                if page.running >= self.max_calls_per_page:
                    limited.info(log, "bridge: page %r: event dropped, too busy", page.name)
                    self.stats.refuse("event_dropped")
                else:
                    page.running += 1
                    nursery.start_soon(_run_handler, page, handler, message.event)

    async def _refuse(self, page: Page, ws: trio_websocket.WebSocketConnection, call: Call) -> None:
        """Answer a call over the page's limit at once (the reader waits for the send:
        a page that does not read its answers is not read either)."""
        limited.info(log, "bridge: page %r: too many calls in flight", page.name)
        self.stats.refuse("too_many_calls")
        self.stats.called(call.name if call.name in self.functions else OTHER, "refused")
        message = f"too many calls in flight (at most {self.max_calls_per_page})"
        with suppress(trio_websocket.ConnectionClosed):
            await ws.send_message(encode({"id": call.id, "op": "fail", "message": message}))

    async def _call(self, page: Page, ws: trio_websocket.WebSocketConnection, call: Call) -> None:
        try:
            await self._answer(page, ws, call)
        finally:
            page.running -= 1

    async def _answer(self, page: Page, ws: trio_websocket.WebSocketConnection, call: Call) -> None:
        function = self.functions.get(call.name)
        if function is None:
            message = f"no function {shorten(repr(call.name))}"
            answer = {"id": call.id, "op": "fail", "message": message}
            self.stats.called(OTHER, "error")
        else:
            args = [_argument(page, a) for a in call.args]
            try:
                if inspect.iscoroutinefunction(function):
                    value = await function(*args)
                else:
                    value = await trio.to_thread.run_sync(lambda: function(*args))
                answer = {"id": call.id, "op": "result", "value": value}
                self.stats.called(call.name, "ok")
            except PageClosed:  # the tab went away mid-call: a normal end, nobody to answer
                log.debug("bridge: %s(...) ended: page %r closed", call.name, page.name)
                self.stats.called(call.name, "closed")
                return
            except Exception as exc:
                log.exception("bridge: %s(...) called by page %r raised", call.name, page.name)
                answer = {"id": call.id, "op": "fail", "message": str(exc) or type(exc).__name__}
                self.stats.called(call.name, "error")
        try:
            await ws.send_message(encode(answer))
        except (trio_websocket.ConnectionClosed, ValueError) as exc:
            log.debug("bridge: answer to %s not sent: %s", call.name, exc)


def _argument(page: Page, value: Any) -> Any:
    if (
        isinstance(value, dict)
        and set(value) == {"$callback"}
        and isinstance(value["$callback"], int)
    ):
        return Callback(page, value["$callback"])
    return value


async def _run_handler(page: Page, handler: EventHandler, event: dict[str, Any]) -> None:
    try:
        result = handler(event)
        if inspect.isawaitable(result):
            await result
    except PageClosed:
        pass
    except Exception:
        log.exception("bridge: an event handler of page %r failed", page.name)
    finally:
        page.running -= 1


CLIENT_JS = resources.files(__package__).joinpath("client.js").read_bytes()
