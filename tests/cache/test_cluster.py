"""A real cluster: three servers/cache_node.py processes and one faulty peer.

Every node reads the same sqlite "slow DB"; all requests enter through node 3's API.
Checks: each key is loaded exactly once, by its owner; a peer answering garbage is a
counted peer error and its keys are loaded locally; a killed node's keys are still
served (local fallback).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import trio

from geetrio.cache import HashRing
from geetrio.http import HTTPClient, client_ssl_context
from tests.helpers import free_port, read_until

ROOT = Path(__file__).resolve().parents[2]
KEYS = {f"player-{i}": 100 + i for i in range(60)}


@dataclass
class Cluster:
    urls: list[str]  # the three real nodes
    apis: list[str]
    garbage_url: str
    processes: list[trio.Process]
    client: HTTPClient

    async def stats(self, i: int) -> dict[str, int]:
        import json

        response = await self.client.get(f"{self.apis[i]}/api/stats")
        return json.loads(response.body)["stats"]  # type: ignore[no-any-return]

    async def lookup(self, key: str) -> tuple[int, bytes]:
        response = await self.client.get(f"{self.apis[2]}/api?key={quote(key, safe='')}")
        return response.status, response.body


def seed_scores(db: Path) -> None:
    """The slow DB every node reads: a scores table holding ``KEYS``."""
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE scores (name TEXT PRIMARY KEY, score INTEGER)")
        conn.executemany("INSERT INTO scores VALUES (?, ?)", KEYS.items())
    conn.close()


async def stop_all(processes: list[trio.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.kill()
        await process.wait()
        assert process.stderr is not None
        await process.stderr.aclose()


async def wait_listening(process: trio.Process, count: int) -> None:
    assert process.stderr is not None
    await read_until(process.stderr, lambda log: log.count(b"listening on") >= count, "a node")


async def start_two_nodes(
    processes: list[trio.Process], urls: list[str], db: Path, api: int, *extra: str
) -> None:
    """``servers/cache_node.py`` for each of ``urls`` (peers of each other, the first
    also serving the API on ``api``), appended to ``processes``; back once they listen."""
    for i, url in enumerate(urls):
        command = [sys.executable, str(ROOT / "servers" / "cache_node.py"), "--self", url]
        command += ["--peers", ",".join(urls), "--db", str(db), *extra]
        if i == 0:
            command += ["--api", str(api)]
        processes.append(await trio.lowlevel.open_process(command, stderr=subprocess.PIPE))
    with trio.fail_after(20):
        await wait_listening(processes[0], 2)
        await wait_listening(processes[1], 1)


@pytest.fixture
async def cluster(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[Cluster]:
    db = tmp_path / "scores.db"
    seed_scores(db)

    async def garbage(stream: trio.SocketStream) -> None:
        while await stream.receive_some():
            await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\xff\xff\xff")

    listeners = await nursery.start(trio.serve_tcp, garbage, 0)
    garbage_url = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    api_ports = [free_port() for _ in range(3)]
    peers = ",".join([*urls, garbage_url])
    processes = []
    try:
        for url, api in zip(urls, api_ports, strict=True):
            process = await trio.lowlevel.open_process(
                [
                    sys.executable,
                    str(ROOT / "servers" / "cache_node.py"),
                    "--self",
                    url,
                    "--peers",
                    peers,
                    "--api",
                    str(api),
                    "--db",
                    str(db),
                    "--timeout",
                    "2",
                ],
                stderr=subprocess.PIPE,
            )
            processes.append(process)
        for process in processes:
            await wait_listening(process, 2)
        async with HTTPClient() as client:
            yield Cluster(
                urls, [f"http://127.0.0.1:{p}" for p in api_ports], garbage_url, processes, client
            )
    finally:
        await stop_all(processes)


async def test_each_key_is_loaded_once_by_its_owner_and_faults_fall_back(cluster: Cluster) -> None:
    ring = HashRing(50)
    ring.add(*cluster.urls, cluster.garbage_url)
    owner = {key: ring.get(key) for key in KEYS}
    assert set(owner.values()) == {*cluster.urls, cluster.garbage_url}  # every member owns some

    async def one_round() -> list[dict[str, int]]:
        for key, score in KEYS.items():
            assert await cluster.lookup(key) == (200, str(score).encode())
        return [await cluster.stats(i) for i in range(3)]

    stats = await one_round()
    owned = [sum(1 for o in owner.values() if o == url) for url in cluster.urls]
    to_garbage = sum(1 for o in owner.values() if o == cluster.garbage_url)
    assert stats[0]["local_loads"] == owned[0]
    assert stats[1]["local_loads"] == owned[1]
    # Node 3 loads its own keys, plus those of the garbage peer (after a peer error).
    assert stats[2]["local_loads"] == owned[2] + to_garbage
    assert stats[2]["peer_errors"] == to_garbage
    assert stats[2]["peer_loads"] == owned[0] + owned[1]
    assert stats[0]["peer_loads"] == stats[1]["peer_loads"] == 0  # never forwarded again

    again = await one_round()  # owners answer from their caches: no loader runs anywhere
    for before, after in zip(stats, again, strict=True):
        assert after["local_loads"] == before["local_loads"]
    assert again[2]["peer_errors"] == to_garbage

    # Kill node 1: its keys are still served by node 3, which loads them itself.
    cluster.processes[0].kill()
    await cluster.processes[0].wait()
    node1_keys = [k for k, o in owner.items() if o == cluster.urls[0]]
    before = await cluster.stats(2)
    for key in node1_keys:
        assert await cluster.lookup(key) == (200, str(KEYS[key]).encode())
    after = await cluster.stats(2)
    from_hot_cache = after["hits"] - before["hits"]
    fell_back = len(node1_keys) - from_hot_cache
    assert after["peer_errors"] - before["peer_errors"] == fell_back
    assert after["local_loads"] - before["local_loads"] == fell_back
    assert fell_back > 0  # the hot cache keeps ~1 in 10 peer keys, not all 20


async def test_api_bad_input(cluster: Cluster) -> None:
    status, body = await cluster.lookup("nobody")
    assert (status, body) == (500, b"nobody not exist\n")
    missing = await cluster.client.get(f"{cluster.apis[2]}/api")
    assert missing.status == 400
    status, _ = await cluster.lookup("x" * 5000)
    assert status == 500  # the owner refused the key (400), then the local load found nothing


async def test_cache_get_client_program(cluster: Cluster) -> None:
    result = await trio.run_process(
        [
            sys.executable,
            str(ROOT / "clients" / "cache_get.py"),
            "--api",
            cluster.apis[2],
            "player-1",
            "player-2",
            "nobody",
        ],
        capture_stdout=True,
        check=False,
    )
    lines = result.stdout.decode().splitlines()
    assert lines[:2] == ["player-1 = 101", "player-2 = 102"]
    assert lines[2].startswith("nobody: error 500")
    assert result.returncode == 1


async def test_ipv6_nodes_with_peers_named_as_go_names_them(tmp_path: Path) -> None:
    """Two real nodes on ``[::1]``, their peer strings in mixed case: each key is loaded
    by the node Go's ring (crc32 of the strings as given) names."""
    db = tmp_path / "scores.db"
    seed_scores(db)
    ports = [free_port() for _ in range(2)]
    urls = [f"http://[::1]:{ports[0]}", f"http://[::1]:{ports[1]}/"]  # a trailing slash kept
    api = free_port()
    processes: list[trio.Process] = []
    try:
        await start_two_nodes(processes, urls, db, api)
        ring = HashRing(50)
        ring.add(*urls)
        async with HTTPClient() as client:
            for key, score in KEYS.items():
                response = await client.get(f"http://[::1]:{api}/api?key={key}")
                assert (response.status, response.body) == (200, str(score).encode())
            stats = json.loads((await client.get(f"http://[::1]:{api}/api/stats")).body)["stats"]
        remote = sum(1 for key in KEYS if ring.get(key) == urls[1])
        assert 0 < remote < len(KEYS)
        assert stats["peer_loads"] == remote and stats["peer_errors"] == 0
        assert stats["local_loads"] == len(KEYS) - remote
    finally:
        await stop_all(processes)


async def test_nodes_over_tls_with_a_secret(tmp_path: Path, pki: dict[str, Path]) -> None:
    """Two real nodes as the README runs them exposed: ``https://`` peers that verify
    each other against the private CA and carry the secret; an outsider without it is
    refused; ``clients/cache_get.py`` reads through the HTTPS API."""
    db = tmp_path / "scores.db"
    seed_scores(db)
    secret = tmp_path / "secret"
    secret.write_text("cache-secret-0123456789abcdef\n")
    ports = [free_port() for _ in range(2)]
    urls = [f"https://127.0.0.1:{port}" for port in ports]
    api = free_port()
    security = ["--tls-cert", str(pki["server"]), "--tls-ca", str(pki["ca"])]
    security += ["--secret-file", str(secret)]
    processes: list[trio.Process] = []
    try:
        await start_two_nodes(processes, urls, db, api, *security)
        get = [sys.executable, str(ROOT / "clients" / "cache_get.py")]
        result = await trio.run_process(
            [*get, "--api", f"https://127.0.0.1:{api}", "--tls-ca", str(pki["ca"]), *KEYS],
            capture_stdout=True,
            check=False,
        )
        assert result.stdout.decode().splitlines() == [f"{k} = {v}" for k, v in KEYS.items()]
        async with HTTPClient(ssl_context=client_ssl_context(pki["ca"])) as client:
            stats = json.loads((await client.get(f"https://127.0.0.1:{api}/api/stats")).body)
            assert stats["stats"]["peer_loads"] > 0 and stats["stats"]["peer_errors"] == 0
            outsider = await client.request("DELETE", f"{urls[1]}/_geecache/scores/player-1")
            assert outsider.status == 401
    finally:
        await stop_all(processes)


def test_an_exposed_node_refuses_to_start_without_tls() -> None:
    command = [sys.executable, str(ROOT / "servers" / "cache_node.py")]
    command += ["--self", "http://0.0.0.0:8001"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "refusing to serve on 0.0.0.0" in done.stderr
