"""A GeeCache node: the peer protocol, and optionally the cache API (GeeCache day 7).

    python servers/cache_node.py --self http://127.0.0.1:8001 \\
        --peers http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003 --api 9999

With ``--api PORT``: ``GET /api?key=K`` answers the value (500 with the error text when
the loader fails) and ``GET /api/stats`` the group's counters as JSON. The backing
"slow DB" is a sqlite table ``scores(name, score)`` read through ``geetrio.orm`` when
``--db PATH`` is given, else a small in-memory table. A database file the node creates
gets the demo rows; an existing one is only read (it must have the ``scores`` table).
Prints ``cache URL`` (and ``api URL``) once listening, then ``ready``. SIGINT/SIGTERM
drains both servers gracefully. Both servers answer ``/metrics`` (Prometheus),
``/healthz`` and ``/readyz`` (the database answers; the peers are reported, advisory).
``--self https://...`` with ``--tls-cert`` serves both over TLS, ``--secret-file``
makes peers need the cluster's secret (and send it); a ``--self`` beyond loopback needs
both, or ``--insecure`` (``servers/security.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import trio

from geetrio import orm
from geetrio._core.text import shorten
from geetrio._core.urls import authority
from geetrio.cache import Getter, Group, HTTPPool, join_cluster, new_group
from geetrio.http import run_until_signal
from geetrio.web import Check, Context, Engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operating
from operating import operate
from security import PLAIN, Security, add_arguments, from_args

log = logging.getLogger("geetrio.cache_node")

DEMO_SCORES = {"Tom": 630, "Jack": 589, "Sam": 567, "Alice": 701, "Bob": 495, "Carol": 612}


class NotFoundError(LookupError):
    """The slow DB has no such key."""


def memory_loader() -> Getter:
    async def load(key: str) -> bytes:
        log.info("[SlowDB] search key %s", shorten(key))
        if key not in DEMO_SCORES:
            raise NotFoundError(f"{key} not exist")
        return str(DEMO_SCORES[key]).encode()

    return load


@dataclass
class Score:
    """The demo's slow DB: a sqlite table read through geetrio.orm."""

    __tablename__ = "scores"
    name: str = field(default="", metadata={"geeorm": "PRIMARY KEY"})
    score: int = 0


class NoScoresTable(RuntimeError):
    """An existing database without the ``scores`` table."""


async def orm_loader(engine: orm.Engine, *, created: bool) -> Getter:
    """The loader over ``engine``'s ``scores`` table. A database this node ``created``
    gets the table and the demo rows; an existing one is never written to."""
    session = engine.new_session()
    if created:
        # Several nodes may create one new file together: the transaction takes the
        # write lock (waiting while another node holds it), so one of them seeds it.
        async def seed(s: orm.Session) -> None:
            if not await s.model(Score).has_table():
                await s.model(Score).create_table()
                await s.insert(*(Score(name, score) for name, score in DEMO_SCORES.items()))

        await engine.transaction(seed)
    elif not await session.model(Score).has_table():
        raise NoScoresTable(f"{engine.path} has no scores table (name text, score integer)")
    scores = session.model(Score)

    async def load(key: str) -> bytes:
        log.info("[SlowDB] search key %s", shorten(key))
        try:
            row = await scores.where("name = ?", key).first()
        except orm.NotFound:
            raise NotFoundError(f"{key} not exist") from None
        return str(row.score).encode()

    return load


def api_app(group: Group, pool: HTTPPool) -> Engine:
    app = Engine()

    @app.get("/api")
    async def lookup(c: Context) -> None:
        key = c.query("key")
        if not key:
            c.string(400, "missing ?key=\n")
            return
        try:
            value = await group.get(key)
        except Exception as exc:
            c.string(500, "%s\n", exc)
            return
        c.set_header("Content-Type", "application/octet-stream")
        c.data(200, value)

    @app.get("/api/stats")
    async def stats(c: Context) -> None:
        c.json(200, {"group": group.name, "self": pool.self_url, "stats": group.stats})

    return app


async def run_node(args: argparse.Namespace, security: Security, shutdown: trio.Event) -> None:
    if args.db:
        created = not await trio.Path(args.db).exists()
        async with orm.open("sqlite3", args.db) as engine:
            loader = await orm_loader(engine, created=created)
            await serve_node(args, loader, shutdown, security, engine)
    else:
        await serve_node(args, memory_loader(), shutdown, security)


async def serve_node(
    args: argparse.Namespace,
    loader: Getter,
    shutdown: trio.Event,
    security: Security = PLAIN,
    database: orm.Engine | None = None,
) -> None:
    group = new_group(args.group, args.cache_bytes, loader, ttl=args.ttl)
    peers = [p for p in args.peers.split(",") if p] if args.peers else []
    pool = HTTPPool(
        args.self,
        timeout=args.timeout,
        ssl_context=security.client_context(),
        secret=security.secret,
    )
    async with pool, trio.open_nursery() as members:
        pool.set(*peers)
        group.register_peers(pool)
        peer_app = Engine()
        pool.mount(peer_app)
        checks: dict[str, Check] = {"peers": pool.ping_peers}
        if database is not None:
            checks["database"] = database.ping
        operate(peer_app, "cache-peer", checks, advisory=["peers"])
        host, port = urlsplit(pool.self_url).hostname, urlsplit(pool.self_url).port
        await serve_peers(
            args, group, pool, peer_app, host, port, shutdown, members, security, checks
        )
        members.cancel_scope.cancel()  # the servers drained: leave the cluster


async def serve_peers(
    args: argparse.Namespace,
    group: Group,
    pool: HTTPPool,
    peer_app: Engine,
    host: str | None,
    port: int | None,
    shutdown: trio.Event,
    members: trio.Nursery,
    security: Security = PLAIN,
    checks: dict[str, Check] | None = None,
) -> None:
    """Both servers until they drained; the cluster joined (``--etcd``) once they listen."""
    assert host is not None and port is not None
    config, scheme = security.http_config(), security.scheme
    async with trio.open_nursery() as servers:  # returns once both have drained
        peers = partial(peer_app.serve, host, port, config=config, shutdown=shutdown)
        say("cache", f"{scheme}://{authority(host, await servers.start(peers))}")
        if args.api is not None:
            app = api_app(group, pool)
            operate(app, "cache-api", checks, advisory=["peers"])
            api = partial(app.serve, host, args.api, config=config, shutdown=shutdown)
            say("api", f"{scheme}://{authority(host, await servers.start(api))}")
        if args.etcd:  # membership from etcd: peers come and go without restarts
            await members.start(partial(join_cluster, args.etcd, pool, ttl=args.etcd_ttl))
        sys.stdout.write("ready\n")
        sys.stdout.flush()


def say(name: str, url: str) -> None:
    log.info("%s server listening on %s", name, url)
    sys.stdout.write(f"{name} {url}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="A GeeCache node on geetrio")
    parser.add_argument("--self", required=True, help="this node's URL, e.g. http://127.0.0.1:8001")
    parser.add_argument(
        "--peers", default="", help="comma-separated peer URLs (self may be included)"
    )
    parser.add_argument(
        "--api", type=int, default=None, help="also serve the cache API on this port"
    )
    parser.add_argument("--db", default=None, help="sqlite file with a scores(name, score) table")
    parser.add_argument("--group", default="scores", help="group name (default: scores)")
    parser.add_argument("--cache-bytes", type=int, default=2 << 10, help="main cache budget")
    parser.add_argument("--timeout", type=float, default=1.0, help="per-peer request timeout, s")
    parser.add_argument("--ttl", type=float, default=None, help="entry lifetime in seconds")
    parser.add_argument("--etcd", default="", help="join the members in this etcd instead")
    parser.add_argument("--etcd-ttl", type=int, default=10, help="the etcd lease's TTL, s")
    add_arguments(parser)
    operating.add_arguments(parser)
    args = parser.parse_args()
    self_url = urlsplit(args.self)
    security = from_args(args, self_url.hostname or "")
    if (self_url.scheme == "https") != security.tls:
        parser.error("--self https://... and --tls-cert go together")
    operating.configure(args, "cache-node")
    trio.run(run_until_signal, partial(run_node, args, security))


if __name__ == "__main__":
    main()
