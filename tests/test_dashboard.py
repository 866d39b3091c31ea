"""The live dashboard's arithmetic (``servers/dashboard.py``, sans-IO): rates and
latency percentiles between two readings of a registry, as Prometheus'
``rate`` and ``histogram_quantile`` would give them. The page itself is tested in
Chromium with the stack (``tests/test_stack.py``)."""

from __future__ import annotations

import pytest

from geetrio import metrics
from servers.loading import load_file

dashboard = load_file("servers/dashboard.py", "dashboard")


def test_quantiles_interpolate_within_a_bucket_like_prometheus() -> None:
    bounds = (0.001, 0.01, 0.1)
    assert dashboard.quantile(0.5, [0, 0, 0, 0], bounds) is None  # nothing observed
    assert dashboard.quantile(0.5, [10, 0, 0, 0], bounds) == pytest.approx(0.0005)
    assert dashboard.quantile(0.5, [0, 10, 0, 0], bounds) == pytest.approx(0.0055)
    assert dashboard.quantile(0.99, [0, 50, 50, 0], bounds) == pytest.approx(0.0982)
    assert dashboard.quantile(0.99, [0, 0, 1, 99], bounds) == 0.1  # in +Inf: the last bound


def test_rates_and_percentiles_between_two_readings() -> None:
    registry = metrics.Registry()
    requests = registry.counter("geetrio_http_requests_total", "", ("server", "m", "r", "s"))
    durations = registry.histogram(
        "geetrio_http_request_duration_seconds", "", ("server", "m", "r")
    )
    gets = registry.counter("geetrio_cache_gets_total", "", ("group", "node"))
    hits = registry.counter("geetrio_cache_hits_total", "", ("group", "node"))
    calls = registry.counter("geetrio_rpc_server_calls_total", "", ("server", "method", "outcome"))
    now = [100.0]
    rates = dashboard.Rates(clock=lambda: now[0])
    requests.inc(("other-app", "GET", "/", "2xx"), 1000)  # not the web app: not counted
    assert rates.step(dashboard.read(registry)) is None  # the first reading: no interval
    for _ in range(40):
        requests.inc(("web", "GET", "/api", "2xx"))
        durations.observe(("web", "GET", "/api"), 0.004)  # 2.5 ms < 4 ms <= 5 ms
    gets.inc(("scores", "http://a"), 10)
    hits.inc(("scores", "http://a"), 4)
    gets.inc(("scores", ""), 99)  # a group without peers: not a node of the picture
    calls.inc(("rpc-1", "Scores.Get", "ok"), 6)
    calls.inc(("rpc-2", "Scores.Get", "error"), 2)
    now[0] += 2.0
    figures = rates.step(dashboard.read(registry))
    assert figures["web"]["rps"] == 20.0
    assert figures["web"]["p50"] == pytest.approx(3.75)  # ms, half way into (2.5, 5]
    assert figures["cache"] == {"http://a": {"gets": 5.0, "loads": 0.0, "hit_ratio": 0.4}}
    assert figures["rpc"]["Scores.Get"]["cps"] == 4.0  # both servers, every outcome
    assert figures["rpc"]["Scores.Get"]["p95"] is None  # no durations observed
    now[0] += 0.5
    quiet = rates.step(dashboard.read(registry))
    assert quiet["web"] == {"rps": 0.0, "p50": None, "p95": None, "p99": None}
    assert quiet["cache"]["http://a"]["hit_ratio"] is None
