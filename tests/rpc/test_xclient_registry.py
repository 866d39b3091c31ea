"""Load balancing, failover, broadcast; the registry, heartbeats and discovery."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from functools import partial

import pytest
import trio
import trio.testing

from geetrio import rpc
from geetrio.http import serve_listeners
from geetrio.rpc._registry import check_address
from geetrio.web import Engine
from tests.helpers import RawClient, refusing_port
from tests.rpc.test_calls import Args


class Counted:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.cancelled = 0
        self.hold = trio.Event()

    async def Sum(self, args: Args) -> int:
        self.calls += 1
        return args.num1 + args.num2

    async def Who(self, _: None) -> str:
        self.calls += 1
        return self.name

    async def Fail(self, message: str) -> None:
        raise RuntimeError(f"{self.name}: {message}")

    async def HoldOrFail(self, _: None) -> str:
        if self.name == "a":
            raise RuntimeError("a fails")
        try:
            await self.hold.wait()
        except trio.Cancelled:
            self.cancelled += 1
            raise
        return self.name


async def start_server(nursery: trio.Nursery, service: object) -> str:
    server = rpc.Server()
    server.register(service, name="S")
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    return f"tcp@127.0.0.1:{port}"


async def test_round_robin_spreads_calls(nursery: trio.Nursery) -> None:
    a, b = Counted("a"), Counted("b")
    servers = [await start_server(nursery, a), await start_server(nursery, b)]
    discovery = rpc.MultiServersDiscovery(servers)
    async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc:
        names = [await xc.call("S.Who", None) for _ in range(6)]
    assert sorted(names) == ["a", "a", "a", "b", "b", "b"]
    assert all(names[i] != names[i + 1] for i in range(5))  # alternating


async def test_random_mode_and_no_servers(nursery: trio.Nursery) -> None:
    a = Counted("a")
    discovery = rpc.MultiServersDiscovery([await start_server(nursery, a)])
    async with rpc.XClient(discovery, rpc.SelectMode.RANDOM) as xc:
        assert await xc.call("S.Sum", Args(1, 2)) == 3
        discovery.update([])
        with pytest.raises(rpc.RPCError, match="no available servers"):
            await xc.call("S.Sum", Args(1, 2))


async def test_a_server_that_cannot_be_dialled_fails_over(nursery: trio.Nursery) -> None:
    live = Counted("live")
    with refusing_port() as dead_port:
        servers = [f"tcp@127.0.0.1:{dead_port}", await start_server(nursery, live)]
        async with rpc.XClient(
            rpc.MultiServersDiscovery(servers), rpc.SelectMode.ROUND_ROBIN
        ) as xc:
            for _ in range(4):
                assert await xc.call("S.Who", None, timeout=2.0) == "live"
    assert live.calls == 4


async def test_a_remote_error_is_not_retried(nursery: trio.Nursery) -> None:
    a, b = Counted("a"), Counted("b")
    servers = [await start_server(nursery, a), await start_server(nursery, b)]
    async with rpc.XClient(rpc.MultiServersDiscovery(servers)) as xc:
        with pytest.raises(rpc.RemoteError, match="boom"):
            await xc.call("S.Fail", "boom")


async def test_broadcast_returns_a_reply_and_cancels_the_rest_on_error(
    nursery: trio.Nursery,
) -> None:
    a, b, c = Counted("a"), Counted("b"), Counted("c")
    servers = [await start_server(nursery, s) for s in (a, b, c)]
    async with rpc.XClient(rpc.MultiServersDiscovery(servers)) as xc:
        assert await xc.broadcast("S.Sum", Args(2, 3)) == 5
        assert (a.calls, b.calls, c.calls) == (1, 1, 1)
        with trio.fail_after(5), pytest.raises(rpc.RemoteError, match="a fails"):
            await xc.broadcast("S.HoldOrFail", None)  # a's error cancels b's and c's calls
    with trio.fail_after(5):  # their connections closed: the servers cancel the handlers
        while b.cancelled + c.cancelled < 2:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)


async def test_a_broken_connection_is_dialled_again(nursery: trio.Nursery) -> None:
    a = Counted("a")
    server = rpc.Server()
    server.register(a, name="S")
    async with trio.open_nursery() as first:
        port = await first.start(server.serve, "127.0.0.1", 0)
        discovery = rpc.MultiServersDiscovery([f"tcp@127.0.0.1:{port}"])
        async with rpc.XClient(discovery) as xc:
            assert await xc.call("S.Who", None) == "a"
            first.cancel_scope.cancel()  # the server goes away...
            await trio.testing.wait_all_tasks_blocked()
            replacement = await start_server(nursery, Counted("b"))
            discovery.update([replacement])  # ...discovery learns of another
            assert await xc.call("S.Who", None) == "b"
            assert list(xc._clients) == [replacement]  # the gone server's client closed


class Sticky:
    """A balancer of our own: always the last server listed, counting its picks."""

    def __init__(self) -> None:
        self.picks = 0

    def pick(self, servers: Sequence[str]) -> str:
        self.picks += 1
        return servers[-1]


async def test_a_balancer_of_ones_own(nursery: trio.Nursery) -> None:
    a, b = Counted("a"), Counted("b")
    servers = [await start_server(nursery, a), await start_server(nursery, b)]
    sticky = Sticky()
    async with rpc.XClient(rpc.MultiServersDiscovery(servers), sticky) as xc:
        assert [await xc.call("S.Who", None) for _ in range(3)] == ["b", "b", "b"]
    assert sticky.picks == 3 and a.calls == 0


def test_the_two_balancers_behind_the_modes() -> None:
    import random

    servers = ["tcp@a:1", "tcp@b:1", "tcp@c:1"]
    rr = rpc.RoundRobinBalancer(random.Random(1))
    first = rr.pick(servers)
    following = [rr.pick(servers) for _ in range(5)]
    order = servers[servers.index(first) :] + servers[: servers.index(first)]
    assert [first, *following] == (order * 2)
    picked = {rpc.RandomBalancer(random.Random(seed)).pick(servers) for seed in range(50)}
    assert picked == set(servers)


# ------------------------------------------------------------------ registry


class Watched(rpc.Registry):
    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.heard = trio.Event()

    def put(self, rpc_addr: str) -> None:
        super().put(rpc_addr)
        self.heard.set()


async def start_registry(nursery: trio.Nursery, registry: rpc.Registry) -> str:
    app = Engine()
    registry.mount(app, rpc.DEFAULT_REGISTRY_PATH)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    return f"http://127.0.0.1:{port}{rpc.DEFAULT_REGISTRY_PATH}"


async def test_the_registry_over_http(nursery: trio.Nursery) -> None:
    url = await start_registry(nursery, rpc.Registry(timeout=300.0))
    port = int(url.split(":")[2].split("/")[0])
    raw = await RawClient.connect(port)
    path = rpc.DEFAULT_REGISTRY_PATH
    empty = await raw.request(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert (empty.status, empty.headers["x-geerpc-servers"]) == (200, "")
    for addr in ("tcp@127.0.0.1:9002", "tcp@127.0.0.1:9001"):
        posted = await raw.request(
            f"POST {path} HTTP/1.1\r\nHost: t\r\nX-Geerpc-Server: {addr}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        assert posted.status == 200
    listed = await raw.request(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert listed.headers["x-geerpc-servers"] == "tcp@127.0.0.1:9001,tcp@127.0.0.1:9002"
    missing = await raw.request(
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode()
    )
    assert missing.status == 400
    other = await raw.request(
        f"PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode()
    )
    assert other.status == 405
    await raw.aclose()


async def test_servers_expire_after_the_timeout(autojump_clock: trio.testing.MockClock) -> None:
    registry = rpc.Registry(timeout=10.0)
    registry.put("tcp@a:1")
    await trio.sleep(6)
    registry.put("tcp@b:2")
    assert registry.alive() == ["tcp@a:1", "tcp@b:2"]
    await trio.sleep(5)
    assert registry.alive() == ["tcp@b:2"]  # a: 11 s without a heartbeat
    await trio.sleep(6)
    assert registry.alive() == []


async def test_a_heartbeat_outlasts_a_registry_that_starts_late(nursery: trio.Nursery) -> None:
    registry = Watched(timeout=300.0)
    app = Engine()
    registry.mount(app, rpc.DEFAULT_REGISTRY_PATH)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, not listening yet: connections are refused
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}{rpc.DEFAULT_REGISTRY_PATH}"
    await nursery.start(partial(rpc.heartbeat, url, "tcp@127.0.0.1:9999", 60.0))
    assert not registry.heard.is_set()  # the first post failed, and it kept going
    sock.listen()
    listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
    await nursery.start(partial(serve_listeners, app.handle, [listener]))
    with trio.fail_after(5):  # the retry after 1 s finds it
        await registry.heard.wait()
    assert registry.alive() == ["tcp@127.0.0.1:9999"]


async def test_discovery_through_the_registry(nursery: trio.Nursery) -> None:
    a, b = Counted("a"), Counted("b")
    url = await start_registry(nursery, rpc.Registry(timeout=300.0))
    for service in (a, b):
        await nursery.start(rpc.heartbeat, url, await start_server(nursery, service), 60.0)
    discovery = rpc.RegistryDiscovery(url, refresh_interval=0.0)
    assert len(await discovery.get_all()) == 2
    async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc:
        assert sorted([await xc.call("S.Who", None) for _ in range(4)]) == ["a", "a", "b", "b"]
        assert await xc.broadcast("S.Sum", Args(1, 1)) == 2


async def test_an_unreachable_registry() -> None:
    with refusing_port() as port:
        url = f"http://127.0.0.1:{port}{rpc.DEFAULT_REGISTRY_PATH}"
        with pytest.raises(rpc.RPCError, match=url):
            await rpc.RegistryDiscovery(url).get_all()


async def test_a_failed_refresh_keeps_the_last_list(nursery: trio.Nursery) -> None:
    registry = rpc.Registry()
    registry.put("tcp@127.0.0.1:1")
    async with trio.open_nursery() as serving:
        url = await start_registry(serving, registry)
        discovery = rpc.RegistryDiscovery(url, refresh_interval=0.0)
        assert await discovery.get_all() == ["tcp@127.0.0.1:1"]
        serving.cancel_scope.cancel()
    assert await discovery.get_all() == ["tcp@127.0.0.1:1"]  # logged, not raised


async def test_a_registry_that_lists_nobody_does_not_empty_the_list(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    """A restarted registry is empty until the next heartbeats, which may be minutes
    away: the clients keep their servers meanwhile, and take the new list once it has any."""
    registry = rpc.Registry()
    registry.put("tcp@127.0.0.1:1")
    url = await start_registry(nursery, registry)
    discovery = rpc.RegistryDiscovery(url, refresh_interval=0.0)
    assert await discovery.get_all() == ["tcp@127.0.0.1:1"]
    registry._servers.clear()  # what a restart leaves
    assert await discovery.get_all() == ["tcp@127.0.0.1:1"]
    assert "lists no servers (restarted?); keeping the last 1" in caplog.text
    registry.put("tcp@127.0.0.1:2")
    assert await discovery.get_all() == ["tcp@127.0.0.1:2"]


# ------------------------------------------------------------------ hostile registrations


async def post(raw: RawClient, addr: str) -> int:
    path = rpc.DEFAULT_REGISTRY_PATH
    response = await raw.request(
        f"POST {path} HTTP/1.1\r\nHost: t\r\nX-Geerpc-Server: {addr}\r\nContent-Length: 0\r\n\r\n".encode()
    )
    return response.status


@pytest.mark.parametrize(
    "addr",
    [
        "tcp@" + "a" * 60_000 + ":1",  # what filled 500 MB in 3 s
        "tcp@host",
        "tcp@host:0",
        "tcp@host:65536",
        "tcp@host:http",
        "tcp@ho st:1",
        "tcp@-host:1",
        "tcp@:1",
        "udp@host:1",
        "unix@relative/path",
        "unix@/with space",
        "tcp@a:1,tcp@b:2",
        "nothing",
        "tls@host",
        "https@ho st:443",
        "tls@/tmp/a.sock",
    ],
)
async def test_malformed_addresses_are_refused(nursery: trio.Nursery, addr: str) -> None:
    registry = rpc.Registry()
    url = await start_registry(nursery, registry)
    raw = await RawClient.connect(int(url.split(":")[2].split("/")[0]))
    assert await post(raw, addr) == 400
    assert len(registry) == 0
    await raw.aclose()


def test_well_formed_addresses() -> None:
    for addr in ("tcp@127.0.0.1:9001", "http@example.com:80", "tcp@[::1]:9", "unix@/tmp/a.sock"):
        assert check_address(addr) == addr
    for addr in ("tls@example.com:9001", "https@[::1]:443"):  # the TLS forms
        assert check_address(addr) == addr


async def test_a_full_registry_refuses_new_servers_and_stays_readable(
    nursery: trio.Nursery,
) -> None:
    registry = rpc.Registry(max_servers=5000)
    url = await start_registry(nursery, registry)
    raw = await RawClient.connect(int(url.split(":")[2].split("/")[0]))
    long_host = "h" * 240
    statuses = [await post(raw, f"tcp@{long_host}{i}:1") for i in range(300)]
    await raw.aclose()
    accepted = statuses.count(200)
    assert 0 < accepted < 300 and statuses[accepted:] == [503] * (300 - accepted)
    discovery = rpc.RegistryDiscovery(url, refresh_interval=0.0)  # our own client reads it
    assert len(await discovery.get_all()) == accepted
    capped = rpc.Registry(max_servers=2)
    capped.put("tcp@a:1")
    capped.put("tcp@b:1")
    capped.put("tcp@a:1")  # a refresh is not a new server
    with pytest.raises(rpc.RegistryFull):
        capped.put("tcp@c:1")


async def test_expiry_runs_on_a_timer(autojump_clock: trio.testing.MockClock) -> None:
    registry = rpc.Registry(timeout=10.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(registry.expire)
        registry.put("tcp@a:1")
        await trio.sleep(5)
        registry.put("tcp@b:1")
        await trio.sleep(5.5)
        assert list(registry._servers) == ["tcp@b:1"]  # dropped with nobody asking
        await trio.sleep(5)
        assert len(registry) == 0
        registry.put("tcp@c:1")  # the timer wakes up again for a new server
        await trio.sleep(10.5)
        assert len(registry) == 0
        nursery.cancel_scope.cancel()
