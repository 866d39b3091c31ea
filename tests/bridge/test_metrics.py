"""The bridge's metrics (issue 20): after a known workload of tabs — calls that succeed
or fail, a foreign origin, a bad and an oversized message — the scrape (parsed with
``prometheus_client``'s parser) moved by exactly that; page and function labels come
from the bridge's own names, never from what a tab sends."""

from __future__ import annotations

import gc
from typing import Any

import trio
import trio.testing

from geetrio import metrics
from geetrio.bridge import Bridge
from tests.bridge.test_bridge import HANDSHAKE, app_port, fake_page, masked
from tests.helpers import RawClient

__all__ = ["app_port"]  # a fixture, used by name

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def bridge_samples() -> Samples:
    from prometheus_client.parser import text_string_to_metric_families

    gc.collect()  # bridges of earlier tests that are gone no longer count
    body, _ = metrics.render(metrics.REGISTRY)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        if family.name.startswith("geetrio_bridge_")
        for sample in family.samples
    }


def moved(before: Samples, after: Samples) -> Samples:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


async def refused_by_origin(port: int) -> None:
    raw = await RawClient.connect(port)
    request = HANDSHAKE.format(path="/_bridge/ws?page=x", origin="http://evil.example")
    assert (await raw.request(request.encode())).status == 403
    await raw.aclose()


async def closed_for(port: int, message: bytes) -> None:
    raw = await RawClient.connect(port)
    request = HANDSHAKE.format(path="/_bridge/ws?page=nosuchpage", origin="http://localhost")
    assert (await raw.request(request.encode())).status == 101
    await raw.send(masked(message))
    with trio.fail_after(5):
        await raw.read_until_eof()
    await raw.aclose()


async def test_tabs_calls_and_refusals_are_counted(app_port: tuple[Bridge, int]) -> None:
    bridge, port = app_port
    before = bridge_samples()
    async with fake_page(port, "hello-world") as hello, fake_page(port, "a-page-nobody-has") as _:
        with trio.fail_after(5):
            await hello.ready.wait()
            assert (await hello.call("fib", 10))["value"] == 89
            assert (await hello.call("fib", 5))["value"] == 8
            assert (await hello.call("boom", "kaboom"))["op"] == "fail"
            assert (await hello.call("eval", "alert(1)"))["op"] == "fail"
        during = moved(before, bridge_samples())
    await refused_by_origin(port)
    async with trio.open_nursery() as nursery:  # each waits for a close our raw tab never sends
        nursery.start_soon(closed_for, port, b"{not json")
        nursery.start_soon(closed_for, port, b"x" * 10_000)
    with trio.fail_after(5):
        while bridge.connected:
            await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    after = moved(before, bridge_samples())

    def series(name: str, **labels: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
        return name, tuple(sorted(labels.items()))

    assert during[series("geetrio_bridge_pages_open", page="hello-world")] == 1
    assert during[series("geetrio_bridge_pages_open", page="<other>")] == 1
    assert after == {
        series("geetrio_bridge_calls_total", function="fib", outcome="ok"): 2,
        series("geetrio_bridge_calls_total", function="boom", outcome="error"): 1,
        series("geetrio_bridge_calls_total", function="<other>", outcome="error"): 1,
        series("geetrio_bridge_refused_total", reason="origin"): 1,
        series("geetrio_bridge_refused_total", reason="bad_message"): 1,
        series("geetrio_bridge_refused_total", reason="too_large"): 1,
    }  # and every tab closed again: no page open
