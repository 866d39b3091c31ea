"""The whole stack in one ``trio.run`` (what ``make run`` will start): a sqlite scores
database through the ORM, a three-node cache cluster reading it, an RPC registry, two
RPC servers offering ``Scores`` (registered by heartbeats), and the web app.

    python servers/stack.py [--host 127.0.0.1] [--port 9999] [--db scores.db | postgresql://...]

Prints ``NAME URL`` for each service (``web``, ``registry``, ``cache-1``..``cache-3``,
``rpc-1``, ``rpc-2``, and ``etcd`` with ``--etcd``), then ``ready``. ``--db
postgresql://...`` keeps the scores in PostgreSQL; ``--etcd http://host:2379`` registers
the RPC servers and the cache members there (leases; watched) instead. ``--port 0``
picks free ports for everything (else the others follow the web port: registry web-1,
caches 8001-8003, RPC 9001-9002 shifted by the web port less 9999). SIGINT or SIGTERM
stops it gracefully: no new connections, in-flight requests and RPC calls get 5 s to
finish (browser pages are closed at once), then the database is closed; a second
signal stops it at once. Every HTTP server of it answers ``/metrics``, ``/healthz`` and
``/readyz``; the web app's readiness covers the database, the registry (or etcd) and the
cache peers (advisory).
"""

from __future__ import annotations

import argparse
import errno
import html
import logging
import sys
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import trio

from geetrio import orm, rpc
from geetrio.bridge import Bridge, Page
from geetrio.cache import Group, HTTPPool, join_cluster
from geetrio.discovery import list_servers
from geetrio.http import run_until_signal
from geetrio.web import Context, Engine, logger, recovery, request_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operating
from cache_node import Score, orm_loader
from dashboard import Dashboard
from loading import load_file
from operating import etcd_check, operate, registry_check
from security import PLAIN, Security, add_arguments, from_args, reachable

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("geetrio.stack")

T = TypeVar("T")
GRACE = 5.0  # seconds in-flight requests get once a shutdown began
SEED = {"Tom": 630, "Jack": 589, "Sam": 567}
GENERATED = 3000


@dataclass
class SetScore:
    name: str
    score: int


class Scores:
    """``Scores.Get(name) -> int`` through the cache; ``Scores.Set({name, score})``
    writes the row through the ORM and removes the key from the cache cluster."""

    def __init__(self, engine: orm.Engine, group: Group) -> None:
        self._engine = engine
        self._group = group

    async def Get(self, name: str) -> int:
        return int(await self._group.get(name))

    async def Set(self, args: SetScore) -> bool:
        session = self._engine.new_session()
        changed = (
            await session.model(Score).where("name = ?", args.name).update({"score": args.score})
        )
        if not changed:
            await session.insert(Score(args.name, args.score))
        await self._group.remove(args.name)
        return True


def driver_of(db: str) -> str:
    """``postgresql://...`` (or ``postgres://``) is PostgreSQL; anything else a sqlite file."""
    return "postgresql" if db.startswith(("postgresql://", "postgres://")) else "sqlite3"


async def open_database(path: str) -> orm.Engine:
    engine = await orm.Engine.open(driver_of(path), path)
    await engine.migrate(Score)

    async def seed(s: orm.Session) -> None:
        if await s.model(Score).count() == 0:
            await s.insert(*(Score(name, score) for name, score in SEED.items()))
            await s.insert(*(Score(f"player-{i:04d}", (i * 37) % 1000) for i in range(GENERATED)))

    await engine.transaction(seed)
    return engine


def wasm_demos() -> ModuleType:
    return load_file("examples/wasm/wasm_demos.py", "wasm_demos")


def bridge_demos() -> ModuleType:
    return load_file("examples/bridge/demos.py", "bridge_demos")


def say(name: str, url: str) -> None:
    sys.stdout.write(f"{name} {url}\n")
    sys.stdout.flush()


class PortTaken(Exception):
    """A port the stack wants is in use."""

    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} is in use")
        self.port = port


async def start_server(servers: trio.Nursery, serve: Any, port: int) -> int:
    """``servers.start(serve)``; a port in use is a ``PortTaken`` naming it."""
    try:
        bound: int = await servers.start(serve)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(port) from None
        raise
    return bound


def port_for(args: argparse.Namespace, default_port: int) -> int:
    return 0 if args.port == 0 else default_port + (args.port - 9999)


async def main(args: argparse.Namespace, security: Security, shutdown: trio.Event) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or str(Path(folder) / "scores.db")
        engine = await open_database(db)
        try:
            async with trio.open_nursery() as services:  # pools, heartbeats, the bridge
                async with trio.open_nursery() as servers:  # each returns once drained
                    await serve_stack(args, security, engine, services, servers, shutdown)
                    sys.stdout.write("ready\n")
                    sys.stdout.flush()
                log.info("the servers drained; stopping the rest")
                services.cancel_scope.cancel(reason="shutdown")
        finally:
            with trio.CancelScope(shield=True):
                await engine.close()


async def serve_stack(
    args: argparse.Namespace,
    security: Security,
    engine: orm.Engine,
    services: trio.Nursery,
    servers: trio.Nursery,
    shutdown: trio.Event,
) -> None:
    """Start everything: servers in ``servers`` (they drain once ``shutdown`` is set),
    what they use in ``services`` (stopped after the servers returned). With TLS and a
    secret (``security``), every channel between them uses both."""
    host = args.advertise or reachable(args.host)  # in URLs, addresses, registrations
    scheme, secret, trusted = security.scheme, security.secret, security.client_context()
    config = security.http_config()

    async def serve(app: Engine, port: int) -> int:
        serve_app = partial(app.serve, args.host, port, config=config, shutdown=shutdown)
        return await start_server(servers, serve_app, port)

    # Cache cluster: three nodes, each its own peer server and group.
    groups: list[Group] = []
    pools: list[HTTPPool] = []
    urls: list[str] = []
    for i in range(3):
        app = Engine()
        operate(app, f"cache-{i + 1}", {"database": engine.ping})
        port = await serve(app, port_for(args, 8001 + i))
        url = f"{scheme}://{host}:{port}"
        group = Group("scores", 2 << 10, await orm_loader(engine, created=False))
        pool = HTTPPool(
            url, timeout=1.0, groups=partial(_only, group), ssl_context=trusted, secret=secret
        )
        pool = await _enter(services, pool)
        pool.mount(app)
        group.register_peers(pool)
        groups.append(group)
        pools.append(pool)
        urls.append(url)
    for pool in pools:
        if args.etcd:  # members from etcd: each node registers and follows the others
            await services.start(partial(join_cluster, security.etcd(args.etcd), pool))
        else:
            pool.set(*urls)

    # RPC: a registry and two servers registered by heartbeats.
    registry_app = Engine()
    rpc_registry = rpc.Registry(timeout=30.0, secret=secret, open_listing=secret is None)
    rpc_registry.mount(registry_app, rpc.DEFAULT_REGISTRY_PATH)
    operate(registry_app, "registry")
    services.start_soon(rpc_registry.expire)
    registry_port = await serve(registry_app, port_for(args, 9998))
    registry = f"{scheme}://{host}:{registry_port}{rpc.DEFAULT_REGISTRY_PATH}"
    rpc_servers: list[rpc.Server] = []
    rpc_addrs: list[str] = []
    for i in range(2):
        server = security.rpc_server(f"rpc-{i + 1}")
        server.register(Scores(engine, groups[i]))
        wanted = port_for(args, 9001 + i)
        serve_rpc = partial(server.serve, args.host, wanted, shutdown=shutdown, grace=GRACE)
        port = await start_server(servers, serve_rpc, wanted)
        address = f"{security.network}@{host}:{port}"
        if args.etcd:
            await services.start(partial(rpc.etcd_register, security.etcd(args.etcd), address))
        else:
            beat = partial(rpc.heartbeat, secret=secret, ssl_context=trusted)
            await services.start(beat, registry, address, 10.0)
        rpc_servers.append(server)
        rpc_addrs.append(address)

    # Every page is a task of the bridge; they end (1000) as the shutdown begins, so open
    # pages do not hold the web server for its whole grace period.
    bridge = await _enter(services, Bridge(allowed_hosts=allowed_hosts(args)), until=shutdown)
    web = build_web(bridge, groups, pools, rpc_servers[0], registry, args.etcd, security)
    checks = {"database": engine.ping, "peers": pools[0].ping_peers}
    if args.etcd:
        checks["etcd"] = etcd_check(args.etcd, security)
    else:
        checks["registry"] = registry_check(registry, security)
    operate(web, "web", checks, advisory=["peers"])
    web_port = await serve(web, args.port)
    say("web", f"{scheme}://{host}:{web_port}")
    say("registry", registry)
    for i, url in enumerate(urls):
        say(f"cache-{i + 1}", url)
    for i, address in enumerate(rpc_addrs):
        say(f"rpc-{i + 1}", address)
    if args.etcd:
        say("etcd", args.etcd)


def _only(group: Group, name: str) -> Group | None:
    return group if name == "scores" else None


async def _enter(nursery: trio.Nursery, resource: T, until: trio.Event | None = None) -> T:
    """Keep ``resource`` (an async context manager: a pool, the bridge) entered until
    the nursery is cancelled (or ``until`` is set), in a task of its own."""

    async def hold(task_status: trio.TaskStatus[T] = trio.TASK_STATUS_IGNORED) -> None:
        async with resource:  # type: ignore[attr-defined]
            task_status.started(resource)
            if until is None:
                await trio.sleep_forever()
            await until.wait()

    entered: T = await nursery.start(hold)
    return entered


def stats_of(groups: list[Group], urls: list[str]) -> list[dict[str, Any]]:
    return [{"node": url, **group.stats} for group, url in zip(groups, urls, strict=True)]


def build_web(
    bridge: Bridge,
    groups: list[Group],
    pools: list[HTTPPool],
    server: rpc.Server,
    registry: str,
    etcd_url: str = "",
    security: Security = PLAIN,
) -> Engine:
    app = Engine()
    app.use(request_id(), logger(), recovery())  # the id first: the access log line has it
    bridge.mount(app)
    bridge_demos().mount_demos(app, bridge)
    wasm_demos().mount(app)
    server.mount(app)  # /debug/geerpc (and RPC over CONNECT)

    @app.get("/")
    async def home(c: Context) -> None:
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, HOME.encode())

    urls = [pool.self_url for pool in pools]
    dashboard = Dashboard(pools)
    dashboard.mount(app, bridge)  # /stats, live

    @app.get("/api")
    async def api(c: Context) -> None:
        key = c.query("key")
        if not key:
            c.string(400, "missing ?key=\n")
            return
        dashboard.looked_up = key[:200]  # the ring picture shows where it sits
        try:
            value = await groups[0].get(key)
        except Exception as exc:
            c.string(500, "%s\n", exc)
            return
        c.data(200, value)

    @app.get("/api/stats")
    async def api_stats(c: Context) -> None:
        c.json(200, stats_of(groups, urls))

    @bridge.page("stats")
    async def live_stats(page: Page) -> None:
        await page.ready()
        while True:
            await page.set("#stats", "innerHTML", stats_table(stats_of(groups, urls)))
            await trio.sleep(0.5)

    @app.get("/registry")
    async def registry_page(c: Context) -> None:
        if etcd_url:  # the servers registered in etcd
            async with security.etcd(etcd_url).client() as etcd:
                members, _ = await etcd.get_prefix(rpc.DEFAULT_ETCD_PREFIX)
            c.json(200, {"registry": etcd_url, "servers": sorted(members.values())})
            return
        servers = await list_servers(
            registry, secret=security.secret, ssl_context=security.client_context()
        )
        c.json(200, {"registry": registry, "servers": servers})

    return app


def stats_table(stats: list[dict[str, Any]]) -> str:
    keys = ["gets", "hits", "loads", "peer_loads", "peer_errors", "local_loads"]
    head = "".join(f"<th>{k}</th>" for k in ["node", *keys])
    rows = "".join(
        "<tr>"
        + f"<td>{html.escape(s['node'])}</td>"
        + "".join(f"<td>{s[k]}</td>" for k in keys)
        + "</tr>"
        for s in stats
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto}td,th{padding:2px 8px}"
)
DEMO_NAMES = ("hello-world", "register-functions", "manipulate-dom", "callback")
HOME = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>geetrio stack</title>
<style>{STYLE}</style></head><body>
<h1>geetrio: the whole stack</h1>
<p>A sqlite database through GeeORM, three GeeCache nodes reading it, a GeeRPC registry with
two servers, and this Gee app — one <code>trio.run</code>.</p>
<ul>
<li><a href="/api?key=Tom">/api?key=Tom</a> — a score through the cache cluster;
  <a href="/api/stats">/api/stats</a></li>
<li><a href="/stats">/stats</a> — the live dashboard: requests, cache, RPC, SQL, the hash ring</li>
<li><a href="/metrics">/metrics</a> (Prometheus), <a href="/readyz">/readyz</a></li>
<li><a href="/debug/geerpc">/debug/geerpc</a> — the RPC services;
  <a href="/registry">/registry</a> — the live servers</li>
<li>WebAssembly demos: {" ".join(f'<a href="/demo/wasm/{d}">{d}</a>' for d in DEMO_NAMES)}</li>
<li>The same, driven from the server:
  {" ".join(f'<a href="/demo/bridge/{d}">{d}</a>' for d in DEMO_NAMES)}</li>
</ul>
<h2>The cache, live</h2>
<div id="stats">…</div>
<p>Numbers pushed by Python over the bridge twice a second; ask
<a href="/api?key=Jack">/api?key=Jack</a> and watch them move.</p>
<script src="/_bridge/client.js" data-page="stats"></script>
</body></html>
"""


def taken_port(group: BaseExceptionGroup[PortTaken]) -> int:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, PortTaken)
    return error.port


def allowed_hosts(args: argparse.Namespace) -> list[str]:
    """The names the bridge's WebSockets may be reached by (DNS rebinding guard)."""
    hosts = ["localhost", "127.0.0.1", "::1"]
    if args.host not in ("", "0.0.0.0", "::"):
        hosts.append(args.host)
    hosts += [h.strip() for h in args.allowed_hosts.split(",") if h.strip()]
    return hosts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999, help="the web app's port; 0 = free ports")
    parser.add_argument(
        "--advertise",
        default="",
        help="the name the services are reached by, in every URL and address the stack "
        "prints and registers (default: --host; 127.0.0.1 for 0.0.0.0)",
    )
    parser.add_argument(
        "--db",
        default="",
        help="a sqlite file, or postgresql://user@host:port/db (default: a temporary sqlite file)",
    )
    parser.add_argument(
        "--etcd",
        default="",
        help="etcd (http://host:2379) for RPC discovery and cache membership "
        "(default: the HTTP registry and a fixed member list)",
    )
    parser.add_argument(
        "--allowed-hosts",
        default="",
        help="comma-separated host names browsers reach the bridge by (besides the loopback "
        "names and --host); '*' = any (only behind a proxy that checks Host)",
    )
    add_arguments(parser)
    operating.add_arguments(parser, "WARNING")
    arguments = parser.parse_args()
    security = from_args(arguments, arguments.host)
    operating.configure(arguments, "stack")
    try:
        trio.run(run_until_signal, partial(main, arguments, security))
    except* PortTaken as taken:
        port = taken_port(taken)
        sys.stderr.write(
            f"error: port {port} on {arguments.host} is in use; pick other ports with "
            f"`make run PORT=...` (servers/stack.py --port; 0 = free ports)\n"
        )
        sys.exit(1)
