"""geetrio.etcd against a real etcd (3.4, private): the gateway calls, a registration
kept alive and removed, a watch that follows changes and survives a restart."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
import trio

from geetrio import etcd


async def test_put_get_delete_and_leases(etcd_server: Any) -> None:
    async with etcd.EtcdClient(etcd_server.url) as client:
        await client.put("/t/a", "1")
        await client.put("/t/b", "2")
        await client.put("/u/c", "3")
        members, revision = await client.get_prefix("/t/")
        assert members == {"/t/a": "1", "/t/b": "2"} and revision >= 3
        assert await client.delete("/t/a") == 1
        lease = await client.grant(5)
        await client.put("/t/leased", "x", lease=lease)
        assert 0 < await client.keep_alive(lease) <= 5
        await client.revoke(lease)
        assert (await client.get_prefix("/t/"))[0] == {"/t/b": "2"}  # the lease took its key
        assert await client.keep_alive(lease) == 0  # etcd no longer has it


async def test_an_unreachable_etcd_is_an_etcd_error() -> None:
    from tests.helpers import refusing_port

    with refusing_port() as port:
        async with etcd.EtcdClient(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(etcd.EtcdError, match="cannot connect"):
                await client.get_prefix("/")


class Members:
    """Records what ``watch_prefix`` reports; ``until(predicate)`` waits for it."""

    def __init__(self) -> None:
        self.current: dict[str, str] = {}
        self._changed = trio.Event()

    def __call__(self, members: dict[str, str]) -> None:
        self.current = members
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, predicate: Any, within: float = 1.0) -> None:
        with trio.fail_after(within):  # the contract: seen within a second
            while not predicate(self.current):
                await self._changed.wait()


async def test_a_registration_is_seen_through_the_watch_and_leaves_with_its_task(
    etcd_server: Any,
) -> None:
    members = Members()
    async with etcd.EtcdClient(etcd_server.url) as client, trio.open_nursery() as nursery:
        await nursery.start(etcd.watch_prefix, client, "/svc/", members)
        assert members.current == {}
        registration = trio.CancelScope()
        nursery.start_soon(_register, client, registration)
        await members.until(lambda m: m == {"/svc/a": "tcp@a:1"})
        registration.cancel()  # leaving revokes the lease: the key goes at once
        await members.until(lambda m: m == {})
        nursery.cancel_scope.cancel()


async def _register(client: etcd.EtcdClient, scope: trio.CancelScope) -> None:
    with scope:
        await etcd.keep_registered(client, "/svc/a", "tcp@a:1", ttl=3)


async def test_a_key_whose_keeper_stopped_without_a_word_expires_after_its_ttl(
    etcd_server: Any,
) -> None:
    async with etcd.EtcdClient(etcd_server.url) as client:
        lease = await client.grant(2)  # what a killed process leaves: a lease nobody refreshes
        await client.put("/svc/dead", "tcp@d:1", lease=lease)
        members = Members()
        async with trio.open_nursery() as nursery:
            await nursery.start(etcd.watch_prefix, client, "/svc/", members)
            assert members.current == {"/svc/dead": "tcp@d:1"}
            await members.until(lambda m: m == {}, within=2 + 2)  # TTL + etcd's own tick
            nursery.cancel_scope.cancel()


async def test_registrations_and_watches_survive_an_etcd_restart(etcd_server: Any) -> None:
    members = Members()
    async with etcd.EtcdClient(etcd_server.url) as client, trio.open_nursery() as nursery:
        await nursery.start(etcd.watch_prefix, client, "/svc/", members)
        await nursery.start(etcd.keep_registered, client, "/svc/a", "tcp@a:1", 3)
        await members.until(lambda m: "/svc/a" in m)
        await trio.to_thread.run_sync(etcd_server.restart)  # SIGKILL, then the same data
        await nursery.start(etcd.keep_registered, client, "/svc/b", "tcp@b:1", 3)
        await members.until(lambda m: m.keys() == {"/svc/a", "/svc/b"}, within=10)
        nursery.cancel_scope.cancel()


async def test_a_registration_comes_back_when_etcd_lost_everything(etcd_server: Any) -> None:
    """An etcd restarted empty (new data folder): the lease is unknown, the keeper
    grants a new one and puts the key back."""
    import shutil

    members = Members()
    async with etcd.EtcdClient(etcd_server.url) as client, trio.open_nursery() as nursery:
        await nursery.start(etcd.keep_registered, client, "/svc/a", "tcp@a:1", 3)

        def wipe() -> None:
            etcd_server.kill()
            shutil.rmtree(etcd_server.folder / "data")
            etcd_server.start()

        await trio.to_thread.run_sync(wipe)
        await nursery.start(etcd.watch_prefix, client, "/svc/", members)
        await members.until(lambda m: m == {"/svc/a": "tcp@a:1"}, within=10)
        nursery.cancel_scope.cancel()


async def test_answers_of_the_wrong_shape_are_etcd_errors(nursery: trio.Nursery) -> None:
    """A proxy or a broken etcd answering JSON that is not etcd's: a clean EtcdError,
    and a watch task that keeps retrying instead of crashing its nursery."""
    from geetrio.web import Context, Engine

    app = Engine()
    answers = {
        "/v3/kv/range": b'{"header": {}}',
        "/v3/kv/put": b"[1, 2]",
        "/v3/lease/grant": b'{"ID": "x"}',
    }

    async def answer(c: Context) -> None:
        c.data(200, answers.get(c.request.path, b"{}"))

    for path in (*answers, "/v3/watch"):
        app.post(path, answer)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    async with etcd.EtcdClient(f"http://127.0.0.1:{port}") as client:
        calls = [
            partial(client.get_prefix, "/"),
            partial(client.put, "/k", "v"),
            partial(client.grant, 5),
        ]
        for call in calls:
            with pytest.raises(etcd.EtcdError, match=r"unexpected answer|answered 200"):
                await call()
        with trio.move_on_after(0.5) as scope:  # never started: the list keeps failing
            await etcd.watch_prefix(client, "/", lambda members: None)
        assert scope.cancelled_caught
