"""A Gee app's ``/metrics`` (issue 20): scraped over a real socket and parsed with
``prometheus_client``'s own parser after a known workload — every counter moved by
exactly what the workload did; hostile paths and methods add no series; and the
instruments' own bounds."""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

import pytest
import trio
import trio.testing

from geetrio import metrics
from geetrio.http import HTTPClient, ServerConfig
from geetrio.web import Context, Engine
from tests.helpers import MemoryListener, get, metric_samples, scraped

_servers = itertools.count()


def requests(method: str, route: str, status: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = (("method", method), ("route", route), ("status", status))
    return "geetrio_http_requests_total", labels


async def test_counters_move_by_exactly_the_workload(nursery: trio.Nursery) -> None:
    server = f"t{next(_servers)}"
    app = Engine()

    @app.get("/")
    async def index(c: Context) -> None:
        c.string(200, "hi")

    @app.get("/user/:id")
    async def user(c: Context) -> None:
        c.string(200 if c.param("id") != "0" else 404, "u")

    @app.get("/boom")
    async def boom(c: Context) -> None:
        raise RuntimeError("a bug")

    app.enable_metrics(server=server)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    async with HTTPClient() as client:

        async def scrape() -> dict[Any, float]:
            response = await client.get(f"{base}/metrics")
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/plain")
            return metric_samples(response.body.decode(), "server", server)

        for _ in range(3):
            assert (await client.get(f"{base}/")).status == 200
        for i in range(6):
            await client.get(f"{base}/user/{i}")
        assert (await client.get(f"{base}/boom")).status == 500
        assert (await client.post(f"{base}/user/1")).status == 405
        assert (await client.request("PROPFIND", f"{base}/")).status == 405
        first = await scrape()
        assert first[requests("GET", "/", "2xx")] == 3
        assert first[requests("GET", "/user/:id", "2xx")] == 5
        assert first[requests("GET", "/user/:id", "4xx")] == 1
        assert first[requests("GET", "/boom", "5xx")] == 1
        assert first[requests("POST", "<unmatched>", "4xx")] == 1
        assert first[requests("OTHER", "<unmatched>", "4xx")] == 1  # the method is not a label
        count = ("geetrio_http_request_duration_seconds_count", (("method", "GET"), ("route", "/")))
        assert first[count] == 3
        inf = (("le", "+Inf"), ("method", "GET"), ("route", "/user/:id"))
        assert first[("geetrio_http_request_duration_seconds_bucket", inf)] == 6

        for i in range(10_000):  # hostile: every path new
            assert (await client.get(f"{base}/nothing/{i}?x={i}")).status == 404
        second = await scrape()
    assert second[requests("GET", "<unmatched>", "4xx")] == 10_000
    assert second[requests("GET", "/metrics", "2xx")] == 1  # the first scrape
    new_series = {k[1] for k in second} - {k[1] for k in first}
    assert new_series <= {
        requests("GET", "<unmatched>", "4xx")[1],
        requests("GET", "/metrics", "2xx")[1],
        (("method", "GET"), ("route", "<unmatched>")),
        (("method", "GET"), ("route", "/metrics")),
    } | {(("le", le), ("method", "GET"), ("route", r)) for le in _les() for r in _routes()}


def _les() -> list[str]:
    return [repr(float(b)) for b in metrics.DEFAULT_BUCKETS] + ["+Inf"]


def _routes() -> tuple[str, ...]:
    return ("<unmatched>", "/metrics")


async def test_connections_open_and_refusals_are_counted(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    server = f"t{next(_servers)}"
    app = Engine()

    @app.post("/")
    async def index(c: Context) -> None:
        c.string(200, "ok")

    app.enable_metrics(server=server)
    config = ServerConfig(header_timeout=2.0, max_body_bytes=100, max_header_bytes=1024)
    listener = MemoryListener()
    await nursery.start(partial(app.serve_listeners, [listener], config=config))
    clients = [await listener.connect() for _ in range(3)]
    for client in clients:
        assert (await client.request(get("/metrics"))).status == 200
    assert scraped("server", server)[("geetrio_http_connections_open", ())] == 3

    big_head = get("/", extra="X-Big: " + "a" * 2000 + "\r\n")
    assert (await clients[0].request(big_head)).status == 431
    big_body = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n"
    assert (await clients[1].request(big_body)).status == 413
    await clients[2].send(b"POST / HTTP/1.1\r\nHost: t\r\n")  # then nothing: too slow
    assert (await clients[2].read_response()).status == 408
    for client in clients:
        await client.aclose()
    await trio.testing.wait_all_tasks_blocked()
    found = scraped("server", server)
    assert found[("geetrio_http_connections_open", ())] == 0
    refused = {k[1]: v for k, v in found.items() if k[0] == "geetrio_http_refused_total"}
    assert refused == {(("status", "408"),): 1, (("status", "413"),): 1, (("status", "431"),): 1}


def test_an_instrument_folds_series_past_its_bound() -> None:
    registry = metrics.Registry()
    counter = registry.counter("x_total", "x", ["path"])
    counter.max_series = 3
    for i in range(100):
        counter.inc((f"/p{i}",))
    assert len(counter.values) == 4  # three kept, one overflow
    assert counter.values[(metrics.OVERFLOW,)] == 97
    histogram = registry.histogram("y_seconds", "y", ["path"])
    histogram.max_series = 1
    histogram.observe(("/a",), 0.003)
    histogram.observe(("/b",), 99.0)
    assert histogram.counts[("/a",)][3] == 1  # 0.0025 < 0.003 <= 0.005, the fourth bound
    assert histogram.counts[(metrics.OVERFLOW,)][-1] == 1  # past every bound: +Inf
    assert registry.counter("x_total", "x", ["path"]) is counter
    with pytest.raises(ValueError, match="other labels"):
        registry.counter("x_total", "x", ["route"])
    with pytest.raises(ValueError, match="another kind"):
        registry.gauge("x_total", "x", ["path"])


def test_metrics_need_prometheus_client_or_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "prometheus_client" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r"geetrio\[metrics\]"):
        Engine().enable_metrics()
