"""HTTPPool over real sockets: two nodes in one process, scripted faulty peers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial

import pytest
import trio

from geetrio.cache import Group, HTTPPool, PeerError, PeerTimeout
from geetrio.cache.protocol import encode_response
from geetrio.web import Engine
from tests.helpers import RawClient, get, refusing_port

DB = {f"key-{i}": f"value-{i}".encode() for i in range(40)}
BIG_VALUE = encode_response(b"v" * 9000)  # a well-formed answer over max_value_bytes


@dataclass
class Node:
    url: str
    pool: HTTPPool
    group: Group
    loads: list[str] = field(default_factory=list)


@pytest.fixture
async def nodes(nursery: trio.Nursery) -> AsyncIterator[list[Node]]:
    """Two nodes on real ports (port 0, then the reported one); each has its own
    'scores' group."""
    apps = [Engine(), Engine()]
    ports = [await nursery.start(partial(app.serve, "127.0.0.1", 0)) for app in apps]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    made: list[Node] = []
    async with (
        HTTPPool(
            urls[0], timeout=0.5, groups=lambda n: made[0].group if n == "scores" else None
        ) as p0,
        HTTPPool(
            urls[1], timeout=0.5, groups=lambda n: made[1].group if n == "scores" else None
        ) as p1,
    ):
        for url, pool, app in zip(urls, (p0, p1), apps, strict=True):
            loads: list[str] = []

            async def load(key: str, loads: list[str] = loads) -> bytes:
                loads.append(key)
                if key == "boom":
                    raise RuntimeError("the slow DB is down")
                if key not in DB:
                    raise KeyError(f"{key} not exist")
                return DB[key]

            group = Group("scores", 1 << 20, load, hot_probability=0.0)
            pool.set(*urls)
            group.register_peers(pool)
            made.append(Node(url, pool, group, loads))
            pool.mount(app)
        yield made


async def test_keys_are_loaded_by_their_owner_only(nodes: list[Node]) -> None:
    a, b = nodes
    for key, value in DB.items():
        assert await a.group.get(key) == value
    owned_by_b = [k for k in DB if a.pool.owner(k) == b.url]
    assert owned_by_b and len(owned_by_b) < len(DB)
    assert sorted(b.loads) == sorted(owned_by_b)
    assert sorted(a.loads) == sorted(set(DB) - set(owned_by_b))
    assert a.group.stats["peer_loads"] == len(owned_by_b)
    assert b.group.stats["peer_loads"] == 0  # B served locally, never forwarded back


async def test_loader_errors_and_unknown_groups_over_the_wire(nodes: list[Node]) -> None:
    _, b = nodes
    port = int(b.url.rsplit(":", 1)[1])
    client = await RawClient.connect(port)
    boom = await client.request(get("/_geecache/scores/boom"))
    assert (boom.status, boom.body) == (500, b"the slow DB is down\n")
    missing = await client.request(get("/_geecache/nope/k"))
    assert missing.status == 404 and b"no such group: nope" in missing.body
    await client.aclose()
    for target, status in [
        ("/_geecache/scores/", 400),
        ("/_geecache/scores", 400),
        ("/_geecache/scores/" + "k" * 5000, 400),
        ("/_geecache/scores/%zz", 400),
        ("/_geecache/scores/%ff%fe", 400),
    ]:
        client = await RawClient.connect(port)
        response = await client.request(get(target))
        assert response.status == status, target
        assert response.body.strip()  # says what is wrong
        await client.aclose()
    ok = await RawClient.connect(port)
    good = await ok.request(get("/_geecache/scores/key-1"))
    assert good.status == 200
    assert good.headers["content-type"] == "application/octet-stream"
    assert good.body == b"\x0a\x07value-1"
    await ok.aclose()


async def test_a_peer_with_a_loader_error_falls_back_locally(nodes: list[Node]) -> None:
    a, b = nodes
    key = next(k for k in (f"boom-{i}" for i in range(100)) if a.pool.owner(k) == b.url)
    with pytest.raises(KeyError):  # B answered 500, then A's own load failed too
        await a.group.get(key)
    assert a.group.stats["peer_errors"] == 1 and a.loads == [key] and b.loads == [key]


async def test_remove_reaches_the_owner(nodes: list[Node]) -> None:
    a, b = nodes
    key = next(k for k in DB if a.pool.owner(k) == b.url)
    await a.group.get(key)
    assert b.group.stats["items"] == 1
    await a.group.remove(key)
    assert b.group.stats["items"] == 0
    await a.group.get(key)
    assert b.loads == [key, key]


async def test_peer_set_changes_at_run_time(nodes: list[Node]) -> None:
    a, b = nodes
    a.pool.set(a.url)  # A alone now: everything is local
    for key in DB:
        await a.group.get(key)
    assert b.loads == [] and sorted(a.loads) == sorted(DB)


async def scripted_peer(nursery: trio.Nursery, answer: bytes | None) -> str:
    """A fake peer: answers every request with ``answer``, or never (None)."""

    async def handler(stream: trio.SocketStream) -> None:
        try:
            while data := await stream.receive_some():
                if answer is None:
                    await trio.sleep_forever()
                # one answer per request (GETs without bodies: one blank line each)
                await stream.send_all(answer * max(data.count(b"\r\n\r\n"), 1))
        except trio.BrokenResourceError:
            pass  # the client gave up on us: that is the point

    listeners = await nursery.start(trio.serve_tcp, handler, 0)
    return f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\xff\xff\xff",  # corrupt protobuf
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
        b"this is not http\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Endless: " + b"a" * 300_000,  # a head that never ends
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG_VALUE), BIG_VALUE),
        None,  # never answers: the pool's timeout
    ],
    ids=["corrupt-protobuf", "503", "not-http", "endless-head", "too-big", "silent"],
)
async def test_faulty_peers_are_counted_and_keys_load_locally(
    nursery: trio.Nursery, answer: bytes | None
) -> None:
    bad = await scripted_peer(nursery, answer)
    loads: list[str] = []

    async def load(key: str) -> bytes:
        loads.append(key)
        return DB[key]

    me = "http://127.0.0.1:1"  # this node's own URL is never dialled
    # Only the silent peer may take the pool's timeout; the others must fail on what
    # they sent (with a 10 s timeout, a missing limit would run into the watchdog).
    timeout = 0.3 if answer is None else 10.0
    async with HTTPPool(me, timeout=timeout, max_value_bytes=4096) as pool:
        pool.set(me, bad)
        group = Group("scores", 1 << 20, load)
        group.register_peers(pool)

        async def check(key: str) -> None:
            assert await group.get(key) == DB[key]

        async with trio.open_nursery() as fetches:  # concurrently: timeouts overlap
            for key in DB:
                fetches.start_soon(check, key)
        bad_keys = [k for k in DB if pool.owner(k) == bad]
        assert bad_keys
        assert group.stats["peer_errors"] == len(bad_keys)
        assert sorted(loads) == sorted(DB)


async def test_an_unreachable_peer_is_a_quick_peer_error() -> None:
    with refusing_port() as port:
        await _unreachable(f"http://127.0.0.1:{port}")


async def _unreachable(gone: str) -> None:
    me = "http://127.0.0.1:1"
    async with HTTPPool(me, timeout=5.0) as pool:
        pool.set(me, gone)
        group = Group("scores", 1 << 20, lambda key: DB[key])
        group.register_peers(pool)
        key = next(k for k in DB if pool.owner(k) == gone)
        with trio.fail_after(2.0):  # refused at once: no need to wait for the timeout
            assert await group.get(key) == DB[key]
        assert group.stats["peer_errors"] == 1


async def test_a_silent_peer_is_a_peer_timeout_which_is_a_too_slow_error(
    nursery: trio.Nursery,
) -> None:
    async def silent(stream: trio.SocketStream) -> None:
        while await stream.receive_some():
            pass  # reads the request, never answers

    listeners = await nursery.start(trio.serve_tcp, silent, 0)
    silent_url = f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}"
    me = "http://127.0.0.1:1"
    async with HTTPPool(me, timeout=0.2) as pool:
        pool.set(me, silent_url)
        key = next(k for k in DB if pool.owner(k) == silent_url)
        peer = pool.pick_peer(key)
        assert peer is not None
        with pytest.raises(PeerTimeout, match=r"no answer within 0\.2 s") as caught:
            await peer.get("scores", key)
    assert isinstance(caught.value, trio.TooSlowError) and isinstance(caught.value, PeerError)


def test_pool_validation() -> None:
    with pytest.raises(ValueError):
        HTTPPool("127.0.0.1:8001")
    with pytest.raises(ValueError):
        HTTPPool("http://127.0.0.1:8001", base_path="no-slashes")
    with pytest.raises(ValueError):
        HTTPPool("http://127.0.0.1:8001", timeout=0)
    with pytest.raises(ValueError, match="printable ASCII"):
        HTTPPool("http://127.0.0.1:8001", secret="two words")  # no header could carry it
    pool = HTTPPool("http://127.0.0.1:8001")
    with pytest.raises(ValueError):
        pool.set("not a url")
    with pytest.raises(RuntimeError, match="async with"):
        _ = pool.client


async def test_the_pool_closes_its_connections(nodes: list[Node]) -> None:
    _, b = nodes
    streams = []
    async with HTTPPool("http://127.0.0.1:1", timeout=1.0) as pool:
        pool.set(b.url)
        key = next(k for k in DB if pool.owner(k) == b.url)
        peer = pool.pick_peer(key)
        assert peer is not None
        assert await peer.get("scores", key) == DB[key]
        streams = [pipe.stream for pipes in pool.client._pipes.values() for pipe in pipes]
        assert streams and all(s is not None and s.socket.fileno() >= 0 for s in streams)
    assert all(s is not None and s.socket.fileno() == -1 for s in streams)  # closed on exit
    with pytest.raises(RuntimeError, match="async with"):
        _ = pool.client


async def test_an_error_in_the_pool_block_comes_out_as_itself() -> None:
    with pytest.raises(KeyError):  # not an ExceptionGroup around it
        async with HTTPPool("http://127.0.0.1:1"):
            raise KeyError("mine")


def test_peers_are_hashed_as_given_like_go() -> None:
    """Go's GeeCache hashes the peer strings it is given: no case folding, no slash
    stripping. The ring of a pool must equal a HashRing of exactly those strings."""
    from geetrio.cache import HashRing

    peers = ["http://LocalHost:8001", "http://localhost:8002/", "http://127.0.0.1:8003"]
    pool = HTTPPool(peers[0])
    pool.set(*peers)
    ring = HashRing(50)
    ring.add(*peers)
    keys = [f"key-{i}" for i in range(400)]
    assert [pool.owner(k) for k in keys] == [ring.get(k) for k in keys]
    assert {pool.owner(k) for k in keys} == set(peers)


async def test_ipv6_peers(nursery: trio.Nursery) -> None:
    apps = [Engine(), Engine()]
    ports = [await nursery.start(partial(app.serve, "::1", 0)) for app in apps]
    urls = [f"http://[::1]:{p}" for p in ports]
    groups: list[Group] = []
    loads: list[list[str]] = [[], []]
    async with (
        HTTPPool(urls[0], groups=lambda n: groups[0]) as p0,
        HTTPPool(urls[1], groups=lambda n: groups[1]) as p1,
    ):
        for i, (pool, app) in enumerate(zip((p0, p1), apps, strict=True)):

            def load(key: str, mine: list[str] = loads[i]) -> bytes:
                mine.append(key)
                return DB[key]

            group = Group("scores", 1 << 20, load, hot_probability=0.0)
            pool.set(*urls)
            group.register_peers(pool)
            pool.mount(app)
            groups.append(group)
        remote = [k for k in DB if p0.owner(k) == urls[1]]
        assert remote
        for key in remote:
            assert await groups[0].get(key) == DB[key]
        assert sorted(loads[1]) == sorted(remote) and not loads[0]
        assert groups[0].stats["peer_errors"] == 0


async def test_ping_peers_names_each_peer_that_does_not_answer(
    nodes: list[Node], nursery: trio.Nursery
) -> None:
    a, b = nodes
    await a.pool.ping_peers()  # b answers (a 400 to the bare base path is an answer)
    silent = await scripted_peer(nursery, None)
    failing = await scripted_peer(nursery, b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
    with refusing_port() as port:
        gone = f"http://127.0.0.1:{port}"
        a.pool.set(a.url, b.url, silent, failing, gone)
        with pytest.raises(PeerError) as caught:
            await a.pool.ping_peers()
    reasons = str(caught.value).split("; ")
    assert len(reasons) == 3
    assert any(r.startswith(f"{silent}: no answer within 0.5 s") for r in reasons)
    assert any(r.startswith(f"{failing} answered 503") for r in reasons)
    assert any(r.startswith(f"{gone}: ") for r in reasons)
    assert b.url not in str(caught.value)


async def test_ping_peers_says_when_a_peer_refuses_our_secret(nursery: trio.Nursery) -> None:
    app = Engine()
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    other = f"http://127.0.0.1:{port}"
    async with HTTPPool(other, secret="theirs") as theirs:
        theirs.mount(app)
        async with HTTPPool("http://127.0.0.1:1", secret="ours") as pool:
            pool.set(other)
            with pytest.raises(PeerError, match=f"{other} answered 403"):
                await pool.ping_peers()
