"""``Engine`` and ``RouterGroup``: routes, nested groups, middleware, serving."""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jinja2
import trio

from .. import metrics, tracing
from .._core.tls import warn_if_exposed
from ..http import Request, Response, ServerConfig, serve, serve_listeners
from ._context import Context
from ._health import Check, healthz, readyz
from ._metrics import UNMATCHED, HttpMetrics, scrape
from ._multipart import FormLimits
from ._router import Router
from ._run import run_app
from ._tracing import traced
from ._types import Decorator, HandlerFunc
from ._websocket import IDLE_TIMEOUT, MAX_MESSAGE_BYTES, PING_INTERVAL, websocket_endpoint

__all__ = ["Engine", "RouterGroup"]

log = logging.getLogger("geetrio.web")


@dataclass(eq=False)
class _Route:
    method: str
    pattern: str
    handler: HandlerFunc
    group: RouterGroup
    chain: tuple[HandlerFunc, ...] = ()
    version: int = -1
    stream_body: bool = False
    cells: Any = None  # its metric cells, once it was measured (``enable_metrics``)


class RouterGroup:
    """Routes under a common prefix sharing middleware. ``Engine`` is the root group.

    A group's middleware applies to every route registered through it or its
    subgroups, whether ``use()`` came before or after the routes; the chain is
    resolved from the matched route, never from the request path's prefix.
    """

    def __init__(self, engine: Engine | None, prefix: str, parent: RouterGroup | None) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"group prefix must start with '/' and not end with it: {prefix!r}")
        self.prefix = prefix
        self.parent = parent
        self.middlewares: list[HandlerFunc] = []
        self._engine = engine

    @property
    def engine(self) -> Engine:
        assert self._engine is not None
        return self._engine

    def group(self, prefix: str) -> RouterGroup:
        """A subgroup: ``app.group("/v1").group("/v2")`` has the prefix ``/v1/v2``."""
        return RouterGroup(self.engine, self.prefix + prefix.rstrip("/"), self)

    def use(self, *middlewares: HandlerFunc) -> None:
        """Add middleware: ``async def mw(c): ...; await c.next(); ...``."""
        for middleware in middlewares:
            if not callable(middleware):
                raise TypeError(f"middleware must be an async function, not {middleware!r}")
        self.middlewares.extend(middlewares)
        self.engine._version += 1

    def add_route(
        self,
        method: str,
        pattern: str,
        handler: HandlerFunc | None = None,
        *,
        stream_body: bool = False,
    ) -> Any:
        """Register ``handler`` for ``method`` on prefix + ``pattern``; without a
        handler, return a decorator. Returns the handler, so decorators stack.

        ``stream_body=True``: the handler reads the request body as it arrives
        (``async for chunk in c.stream_body()``), unbuffered and not held to
        ``max_body_bytes`` — for uploads. Register such routes before serving."""
        return self._register(method, pattern, handler, stream_body)

    def _register(
        self, method: str, pattern: str, handler: HandlerFunc | None, stream_body: bool = False
    ) -> HandlerFunc | Decorator:
        if handler is None:
            return partial(self._add, method, pattern, stream_body=stream_body)
        return self._add(method, pattern, handler, stream_body=stream_body)

    def _add(
        self, method: str, pattern: str, handler: HandlerFunc, *, stream_body: bool = False
    ) -> HandlerFunc:
        if not callable(handler):
            raise TypeError(f"handler must be an async function, not {handler!r}")
        method = method.upper()
        full = self.prefix + pattern
        route = _Route(method, full, handler, self, stream_body=stream_body)
        self.engine._router.add(method, full, route)
        self.engine._streaming_routes += stream_body
        log.debug("route %4s - %s%s", method, full, " (streamed body)" if stream_body else "")
        return handler

    def get(self, pattern: str, handler: HandlerFunc | None = None) -> Any:
        """Register a GET route; without a handler, return a decorator."""
        return self._register("GET", pattern, handler)

    def post(
        self, pattern: str, handler: HandlerFunc | None = None, *, stream_body: bool = False
    ) -> Any:
        """Register a POST route; without a handler, return a decorator."""
        return self._register("POST", pattern, handler, stream_body)

    def put(
        self, pattern: str, handler: HandlerFunc | None = None, *, stream_body: bool = False
    ) -> Any:
        """Register a PUT route; without a handler, return a decorator."""
        return self._register("PUT", pattern, handler, stream_body)

    def delete(self, pattern: str, handler: HandlerFunc | None = None) -> Any:
        """Register a DELETE route; without a handler, return a decorator."""
        return self._register("DELETE", pattern, handler)

    def patch(
        self, pattern: str, handler: HandlerFunc | None = None, *, stream_body: bool = False
    ) -> Any:
        """Register a PATCH route; without a handler, return a decorator."""
        return self._register("PATCH", pattern, handler, stream_body)

    def head(self, pattern: str, handler: HandlerFunc | None = None) -> Any:
        """Register a HEAD route; without a handler, return a decorator."""
        return self._register("HEAD", pattern, handler)

    def options(self, pattern: str, handler: HandlerFunc | None = None) -> Any:
        """Register a OPTIONS route; without a handler, return a decorator."""
        return self._register("OPTIONS", pattern, handler)

    def static(self, relative_path: str, root: str | os.PathLike[str]) -> None:
        """Serve files under ``root`` at ``GET relative_path/*filepath``."""
        from ._static import static_handler

        pattern = relative_path.rstrip("/") + "/*filepath"
        self.add_route("GET", pattern, static_handler(root))

    def websocket(
        self,
        pattern: str,
        *,
        ping_interval: float | None = PING_INTERVAL,
        idle_timeout: float = IDLE_TIMEOUT,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> Callable[[Any], Any]:
        """Decorator for ``async def handler(c, ws)`` on ``GET pattern`` upgrades. The
        server pings every ``ping_interval`` seconds and closes (1001) a peer whose
        pong has not come within ``idle_timeout``."""
        endpoint = partial(
            websocket_endpoint,
            ping_interval=ping_interval,
            idle_timeout=idle_timeout,
            max_message_bytes=max_message_bytes,
        )

        def register(handler: Any) -> Any:
            self.add_route("GET", pattern, endpoint(handler))
            return handler

        return register


class Engine(RouterGroup):
    """The application: the root route group plus templates and serving.

    >>> app = Engine()
    >>> @app.get("/hello/:name")
    ... async def hello(c):
    ...     c.string(200, "hello %s\\n", c.param("name"))
    >>> # port = await nursery.start(app.serve, "127.0.0.1", 0)
    """

    def __init__(self) -> None:
        super().__init__(None, "", None)
        self._engine = self
        self._router: Router[_Route] = Router()
        self._version = 0
        self._streaming_routes = 0
        self._on_no_route: HandlerFunc | None = None
        self._on_no_method: HandlerFunc | None = None
        self._metrics: HttpMetrics | None = None  # ``enable_metrics``
        self._templates = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        self.form_limits = FormLimits()
        """Limits of multipart forms (``c.form()``): parts, field and file sizes, the
        whole body, when files spool to disk; replace with ``web.FormLimits(...)``."""

    # ------------------------------------------------------------- templates

    def set_func_map(self, funcs: Mapping[str, Callable[..., Any]]) -> None:
        """Functions callable from every template: ``{{ shout(x) }}``."""
        self._templates.globals.update(funcs)

    def load_html_glob(self, pattern: str) -> None:
        """Load the templates matching ``pattern``; ``c.html`` names them by file name."""
        paths = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
        if not paths:
            raise FileNotFoundError(f"no template matches {pattern!r}")
        sources = {}
        for path in paths:
            with open(path, encoding="utf-8") as file:
                sources[os.path.basename(path)] = file.read()
        self._templates.loader = jinja2.DictLoader(sources)

    def render(self, name: str, data: Mapping[str, Any]) -> bytes:
        return self._templates.get_template(name).render(data).encode()

    # ------------------------------------------------------------- dispatch

    def _chain(self, route: _Route) -> tuple[HandlerFunc, ...]:
        if route.version != self._version:
            groups: list[RouterGroup] = []
            group: RouterGroup | None = route.group
            while group is not None:
                groups.append(group)
                group = group.parent
            middlewares = [m for g in reversed(groups) for m in g.middlewares]
            route.chain = (*middlewares, route.handler)
            route.version = self._version
        return route.chain

    def handle(self, request: Request) -> Awaitable[Response | None]:
        """The ``geetrio.http`` handler: route, then the context runs the chain and
        answers (its coroutine is returned, not awaited here: one frame less per
        request)."""
        found = self._router.lookup(request.method, request.path)
        if found is not None:
            route, params = found
            chain = route.chain if route.version == self._version else self._chain(route)
        else:
            params = {}
            chain = (*self.middlewares, self._no_route)
        metrics = self._metrics
        if metrics is None:
            context = Context(request, self, chain, params)
        else:
            if found is not None:
                cells = route.cells or metrics.cells(route, route.method, route.pattern)
            else:
                cells = metrics.unmatched(request.method)
            context = Context(request, self, chain, params, cells)
        tracer = tracing.tracer()
        if tracer is None:
            return context.run()
        return traced(tracer, context, route.pattern if found is not None else UNMATCHED)

    def enable_metrics(self, path: str = "/metrics", *, server: str = "gee") -> None:
        """Record HTTP metrics (requests by method, route pattern and status class;
        durations; connections open; requests the server refused itself, by status)
        into ``geetrio.metrics.REGISTRY`` as ``server``, and serve every
        metric of the process at ``GET path`` for Prometheus. Needs the extra
        ``geetrio[metrics]`` (``prometheus_client``): ``ImportError`` here without it."""
        self._metrics = HttpMetrics(metrics.REGISTRY, server)
        self.get(path, scrape)

    def enable_health(
        self,
        checks: Mapping[str, Check] | None = None,
        *,
        timeout: float = 1.0,
        advisory: Collection[str] = (),
    ) -> None:
        """``GET /healthz`` (200 while the process serves) and ``GET /readyz``: every
        check of ``checks`` (name -> ``async def check()``, raising when its part does
        not answer) run at once, each for at most ``timeout`` seconds; 200 when all
        pass, else 503, the JSON body naming each part's state. The checks named in
        ``advisory`` are reported but never make it 503."""
        self.get("/healthz", healthz)
        self.get("/readyz", readyz(checks or {}, timeout, advisory))

    def no_route(self, handler: HandlerFunc) -> HandlerFunc:
        """Answer requests for paths no route has (gin's ``NoRoute``): ``handler`` runs
        after the engine's middleware, the status already 404."""
        self._on_no_route = handler
        return handler

    def no_method(self, handler: HandlerFunc) -> HandlerFunc:
        """Answer requests whose path has routes but not for their method (gin's
        ``NoMethod``): the status already 405 and ``Allow`` set."""
        self._on_no_method = handler
        return handler

    async def _no_route(self, c: Context) -> None:
        allowed = self._router.allowed_methods(c.path)
        if allowed:
            c.set_header("Allow", ", ".join(allowed))
            c.string(405, "405 METHOD NOT ALLOWED: %s\n", c.path)
            custom = self._on_no_method
        else:
            c.string(404, "404 NOT FOUND: %s\n", c.path)
            custom = self._on_no_route
        if custom is not None:
            await custom(c)

    # ------------------------------------------------------------- serving

    async def serve(
        self,
        host: str | None,
        port: int,
        *,
        config: ServerConfig | None = None,
        shutdown: trio.Event | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve until cancelled or ``shutdown`` is set (then drain gracefully).
        ``port = await nursery.start(app.serve, "127.0.0.1", 0)``."""
        await serve(
            self.handle,
            host,
            port,
            config=config,
            shutdown=shutdown,
            stream_body=self.streams_body if self._streaming_routes else None,
            stats=self._metrics.stats if self._metrics else None,
            task_status=task_status,
        )

    def streams_body(self, request: Request) -> bool:
        """Whether the route ``request`` goes to reads its body as a stream."""
        found = self._router.lookup(request.method, request.path)
        return found is not None and found[0].stream_body

    async def serve_listeners(
        self,
        listeners: Sequence[trio.abc.Listener[Any]],
        *,
        config: ServerConfig | None = None,
        shutdown: trio.Event | None = None,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """``serve`` on listeners you made (``http.serve_listeners``). Cancelled: stops
        at once (``shutdown`` drains)."""
        if config is None or config.ssl_context is None:
            warn_if_exposed(listeners, log, "plain HTTP")
        await serve_listeners(
            self.handle,
            listeners,
            config=config,
            shutdown=shutdown,
            stream_body=self.streams_body if self._streaming_routes else None,
            stats=self._metrics.stats if self._metrics else None,
            task_status=task_status,
        )

    def run(
        self, addr: str = ":9999", *, config: ServerConfig | None = None, workers: int = 1
    ) -> None:
        """Blocking helper: serve on ``"host:port"`` (``":9999"`` = every interface)
        until SIGINT/SIGTERM, which drains gracefully; a second signal stops at once.
        ``workers=N``: N processes on the port (``SO_REUSEPORT``), each an ordinary
        ``trio.run``, under a supervisor that replaces any that dies
        (``geetrio.http.run_workers``); call it before anything starts threads."""
        run_app(self.serve, self.serve_listeners, addr, config, workers)
