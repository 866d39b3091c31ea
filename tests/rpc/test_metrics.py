"""RPC metrics (issue 20): ``rpc.metrics_interceptor`` first in a server's chain — after
calls that succeed, fail, are refused by the token interceptor behind it and run past
the handle timeout, the scrape (parsed with ``prometheus_client``'s parser) counts each
exactly, per method and outcome, and nothing is left in flight."""

from __future__ import annotations

import gc

import pytest
import trio
import trio.testing

from geetrio import metrics, rpc
from tests.helpers import scraped
from tests.rpc.test_calls import Args, Foo, memory_client


async def test_every_call_is_counted_by_method_and_outcome(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = rpc.Server(
        interceptors=[rpc.metrics_interceptor("scores-test"), rpc.token_interceptor(["s3"])]
    )
    server.register(Foo())
    token = {"authorization": "Bearer s3"}
    async with memory_client(server, rpc.Option(handle_timeout=2.0)) as client:
        assert await client.call("Foo.Sum", Args(1, 2), metadata=token) == 3
        assert await client.call("Foo.Sum", Args(2, 2), metadata=token) == 4
        with pytest.raises(rpc.RemoteError, match="refused"):
            await client.call("Foo.Sum", Args(1, 2))
        with pytest.raises(rpc.RemoteError, match="boom"):
            await client.call("Foo.Boom", "boom", metadata=token)
        with pytest.raises(rpc.RemoteError, match="handle timeout"):
            await client.call("Foo.Wait", "forever", metadata=token)
        with pytest.raises(rpc.RemoteError, match="can't find method"):
            await client.call("Foo.Nothing", 1, metadata=token)  # never reaches it
    found = scraped("server", "scores-test")
    calls = {
        labels: n for (name, labels), n in found.items() if name == "geetrio_rpc_server_calls_total"
    }
    assert calls == {
        (("method", "Foo.Sum"), ("outcome", "ok")): 2,
        (("method", "Foo.Sum"), ("outcome", "refused")): 1,
        (("method", "Foo.Boom"), ("outcome", "error")): 1,
        (("method", "Foo.Wait"), ("outcome", "cancelled")): 1,
    }
    assert found[("geetrio_rpc_server_in_flight", ())] == 0
    wait = ("geetrio_rpc_server_call_duration_seconds_count", (("method", "Foo.Wait"),))
    assert found[wait] == 1  # timed on the wall clock (this test's clock is virtual)
    count = ("geetrio_rpc_server_call_duration_seconds_count", (("method", "Foo.Sum"),))
    assert found[count] == 3


async def test_the_client_side_counts_each_outcome(autojump_clock: trio.testing.MockClock) -> None:
    server = rpc.Server()
    server.register(Foo())
    async with memory_client(server) as client:
        client.use(rpc.client_metrics_interceptor("client-test"))
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
        with pytest.raises(rpc.RemoteError, match="boom"):
            await client.call("Foo.Boom", "boom")
        with pytest.raises(rpc.RPCTimeout):
            await client.call("Foo.Wait", "forever", timeout=1.0)
        with trio.move_on_after(1.0):
            await client.call("Foo.Wait", "forever")
    with pytest.raises(rpc.ShutdownError):
        await client.call("Foo.Sum", Args(1, 2))  # the connection is closed
    found = scraped("client", "client-test")
    calls = {
        labels: n for (name, labels), n in found.items() if name == "geetrio_rpc_client_calls_total"
    }
    assert calls == {
        (("method", "Foo.Sum"), ("outcome", "ok")): 1,
        (("method", "Foo.Boom"), ("outcome", "error")): 1,
        (("method", "Foo.Wait"), ("outcome", "timeout")): 1,
        (("method", "Foo.Wait"), ("outcome", "cancelled")): 1,
        (("method", "Foo.Sum"), ("outcome", "shutdown")): 1,
    }
    assert found[("geetrio_rpc_client_in_flight", ())] == 0
    count = ("geetrio_rpc_client_call_duration_seconds_count", (("method", "Foo.Wait"),))
    assert found[count] == 2


def registry_servers() -> float:
    gc.collect()  # registries of earlier tests that are gone no longer count
    from prometheus_client.parser import text_string_to_metric_families

    body, _ = metrics.render(metrics.REGISTRY)
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "geetrio_rpc_registry_servers":
            return float(family.samples[0].value)
    raise AssertionError("no geetrio_rpc_registry_servers in the scrape")


async def test_a_registry_reports_its_live_servers(autojump_clock: trio.testing.MockClock) -> None:
    before = registry_servers()
    registry = rpc.Registry(timeout=10.0)
    registry.put("tcp@127.0.0.1:9001")
    registry.put("tcp@127.0.0.1:9002")
    registry.put("tcp@127.0.0.1:9001")  # a heartbeat of a known server
    assert registry_servers() == before + 2
    async with trio.open_nursery() as nursery:
        nursery.start_soon(registry.expire)
        await trio.sleep(11.0)  # both missed their heartbeats
        nursery.cancel_scope.cancel()
    assert registry_servers() == before
