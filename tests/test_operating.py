"""Operating the programs (issue 20) as an operator meets them, each in its own
process: the stack's ``/metrics`` after a known workload through web, cache, RPC and
ORM; ``/readyz`` turning 503 naming the part while the database file is locked by
another process, or the registry is killed, and 200 again once it is back; a cache
node that stays ready, reporting the peer, while a peer is down."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import trio

from geetrio import rpc
from geetrio.http import HTTPClient
from tests.helpers import free_port, metric_samples, read_until
from tests.test_stack import stack

ROOT = Path(__file__).resolve().parents[1]


async def start(nursery: trio.Nursery, lines: int, script: str, *args: str) -> list[str]:
    """Run ``script`` (killed when the nursery is cancelled) until it printed ``lines``
    lines; those lines."""
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            [sys.executable, str(ROOT / "servers" / script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    )
    assert process.stdout is not None
    with trio.fail_after(20):
        out = await read_until(process.stdout, lambda o: o.count(b"\n") >= lines, script)
    return out.decode().splitlines()


async def ready(client: HTTPClient, base: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"{base}/readyz")
    return response.status, json.loads(response.body)


async def test_the_stack_is_measured_and_its_readiness_follows_the_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scores.db"
    async with stack("--db", str(db)) as (process, urls, _):
        web = urls["web"]
        async with HTTPClient() as client:
            status, body = await ready(client, web)
            assert (status, body["checks"]) == (
                200,
                {"database": "ok", "peers": "ok", "registry": "ok"},
            )
            registry_base = urls["registry"].removesuffix(rpc.DEFAULT_REGISTRY_PATH)
            for base in (web, registry_base, urls["cache-1"], urls["cache-2"], urls["cache-3"]):
                assert (await client.get(f"{base}/healthz")).status == 200, base

            for _ in range(2):
                assert (await client.get(f"{web}/api?key=Tom")).body == b"630"
            discovery = rpc.RegistryDiscovery(urls["registry"])
            async with rpc.XClient(discovery) as xc:
                assert await xc.call("Scores.Get", "Jack", timeout=5) == 589
            text = (await client.get(f"{web}/metrics")).body.decode()

            with sqlite3.connect(db, isolation_level=None) as other:  # another process
                other.execute("BEGIN IMMEDIATE")
                status, body = await ready(client, web)
                assert status == 503 and body["ready"] is False
                assert body["checks"] == {
                    "database": "timed out after 1.0 s",
                    "peers": "ok",
                    "registry": "ok",
                }
                other.execute("COMMIT")
            status, body = await ready(client, web)
            assert status == 200 and body["ready"] is True
        process.kill()

    api = ("geetrio_http_requests_total", (("method", "GET"), ("route", "/api"), ("status", "2xx")))
    assert metric_samples(text, "server", "web")[api] == 2
    rpc_ok = [
        value
        for name in ("rpc-1", "rpc-2")
        for (metric, labels), value in metric_samples(text, "server", name).items()
        if metric == "geetrio_rpc_server_calls_total"
        and dict(labels) == {"method": "Scores.Get", "outcome": "ok"}
    ]
    assert rpc_ok == [1]
    gets = {
        dict(labels)["node"]: value
        for (name, labels), value in metric_samples(text, "group", "scores").items()
        if name == "geetrio_cache_gets_total"
    }
    assert sorted(gets) == sorted(urls[f"cache-{i}"] for i in (1, 2, 3))  # one series a node
    assert gets[urls["cache-1"]] >= 2  # /api asks cache-1 (the peers' own gets aside)
    statements = metric_samples(text, "dialect", "sqlite3")
    assert statements[("geetrio_orm_statements_total", (("kind", "select"), ("outcome", "ok")))]
    assert metric_samples(text, "server", "web")[("geetrio_http_connections_open", ())] >= 1


async def test_readiness_follows_the_registry_killed_and_restarted() -> None:
    port = free_port()
    registry = f"http://127.0.0.1:{port}{rpc.DEFAULT_REGISTRY_PATH}"
    async with trio.open_nursery() as nursery, HTTPClient() as client:
        async with trio.open_nursery() as first:
            await start(first, 1, "rpc_registry.py", "--port", str(port))
            lines = await start(
                nursery, 2, "rpc_server.py", "--registry", registry, "--http-port", "0"
            )
            http = "http://" + lines[0].split("@", 1)[1]  # "http http@127.0.0.1:PORT"
            assert await ready(client, http) == (200, {"ready": True, "checks": {"registry": "ok"}})
            first.cancel_scope.cancel()  # the registry is killed
        status, body = await ready(client, http)
        assert status == 503
        assert body["checks"]["registry"].startswith("DiscoveryError: "), body
        async with trio.open_nursery() as second:
            await start(second, 1, "rpc_registry.py", "--port", str(port))
            assert await ready(client, http) == (200, {"ready": True, "checks": {"registry": "ok"}})
            second.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


async def test_a_cache_node_stays_ready_and_names_the_peer_that_is_down(
    tmp_path: Path,
) -> None:
    ports = [free_port() for _ in range(2)]
    peers = ",".join(f"http://127.0.0.1:{p}" for p in ports)
    db = str(tmp_path / "scores.db")
    async with trio.open_nursery() as nursery, HTTPClient() as client:
        args = ["--peers", peers, "--db", db]
        lines = await start(
            nursery,
            3,
            "cache_node.py",
            "--self",
            f"http://127.0.0.1:{ports[0]}",
            *args,
            "--api",
            "0",
        )
        api = lines[1].split()[1]
        async with trio.open_nursery() as other:
            await start(other, 2, "cache_node.py", "--self", f"http://127.0.0.1:{ports[1]}", *args)
            checks = {"database": "ok", "peers": "ok"}
            assert await ready(client, api) == (200, {"ready": True, "checks": checks})
            for key in ("Tom", "Jack", "Sam", "Alice"):
                assert (await client.get(f"{api}/api?key={key}")).status == 200
            other.cancel_scope.cancel()  # the peer is killed
        status, body = await ready(client, api)
        assert status == 200 and body["ready"] is True  # it loads the peer's keys itself
        assert body["checks"]["peers"].startswith(f"PeerError: http://127.0.0.1:{ports[1]}: ")
        text = (await client.get(f"{api}/metrics")).body.decode()
        nursery.cancel_scope.cancel()
    found = metric_samples(text, "node", f"http://127.0.0.1:{ports[0]}")
    assert found[("geetrio_cache_gets_total", (("group", "scores"),))] == 4
    assert found[("geetrio_cache_loads_total", (("group", "scores"),))] == 4
    api_requests = metric_samples(text, "server", "cache-api")
    key = ("geetrio_http_requests_total", (("method", "GET"), ("route", "/api"), ("status", "2xx")))
    assert api_requests[key] == 4
