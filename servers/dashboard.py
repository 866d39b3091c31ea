"""The stack's live dashboard (issue 20): ``/stats`` draws the process's own metrics —
requests/s and latency percentiles of the web app, hit ratio and loads per cache node,
RPC calls/s and latency per method, SQL statements/s — and a picture of the hash ring
(which node owns which arc, and where the last key looked up sits), pushed over the
bridge twice a second.

The charts are uPlot (``servers/dashboard_ui/``: pinned by its ``package.json`` and lock
file, installed by ``make``, served from ``/assets/uplot/``; never from a CDN). The page
calls ``dashboard_watch(draw)``; the server then calls ``draw(snapshot)`` every
``INTERVAL`` seconds until the tab closes. ``Rates`` is the arithmetic, sans-IO: rates
and percentiles over the last interval from two readings of the registry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from geetrio import metrics
from geetrio.bridge import Bridge, Callback, PageClosed
from geetrio.cache import HTTPPool
from geetrio.web import Context, Engine

UI = Path(__file__).resolve().parent / "dashboard_ui"
UPLOT = UI / "node_modules" / "uplot" / "dist"
INTERVAL = 0.5
QUANTILES = (0.5, 0.95, 0.99)

Reading = dict[str, dict[tuple[str, ...], Any]]  # metric name -> its series now


def read(registry: metrics.Registry = metrics.REGISTRY) -> Reading:
    """Every instrument's series now."""
    return {instrument.name: instrument.current() for instrument in registry}  # type: ignore[attr-defined]


def quantile(q: float, counts: list[float], bounds: tuple[float, ...]) -> float | None:
    """Prometheus' ``histogram_quantile``: the ``q`` quantile of observations counted
    per bucket (not cumulative; the last is +Inf), linear within a bucket; None
    without observations. Past the last finite bound it is that bound."""
    total = sum(counts)
    if total <= 0:
        return None
    rank, seen, lower = q * total, 0.0, 0.0
    for count, upper in zip(counts, (*bounds, math.inf), strict=True):
        if count and seen + count >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
        lower = upper
    return lower


class Rates:
    """Rates and percentiles between the previous reading and the next."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, Reading] | None = None

    def step(self, now_reading: Reading) -> dict[str, Any] | None:
        """The interval's figures, or None on the first reading (nothing to compare)."""
        now = self._clock()
        last, self._last = self._last, (now, now_reading)
        if last is None or now <= last[0]:
            return None
        seconds, before = now - last[0], last[1]

        def delta(name: str, keep: Callable[[tuple[str, ...]], bool]) -> float:
            new, old = now_reading.get(name, {}), before.get(name, {})
            return sum(v - old.get(k, 0) for k, v in new.items() if keep(k))

        def buckets(name: str, keep: Callable[[tuple[str, ...]], bool]) -> list[float]:
            new, old = now_reading.get(name, {}), before.get(name, {})
            summed = [0.0] * (len(metrics.DEFAULT_BUCKETS) + 1)
            for key, (counts, _) in new.items():
                if keep(key):
                    previous = old.get(key, ([0] * len(counts), 0.0))[0]
                    for i, (a, b) in enumerate(zip(counts, previous, strict=True)):
                        summed[i] += a - b
            return summed

        def latency(name: str, keep: Callable[[tuple[str, ...]], bool]) -> dict[str, Any]:
            counts = buckets(name, keep)
            return {
                f"p{round(q * 100)}": _ms(quantile(q, counts, metrics.DEFAULT_BUCKETS))
                for q in QUANTILES
            }

        web = lambda key: key[0] == "web"  # noqa: E731 - the web app's series
        figures: dict[str, Any] = {
            "web": {
                "rps": delta("geetrio_http_requests_total", web) / seconds,
                **latency("geetrio_http_request_duration_seconds", web),
            },
            "sql": {"sps": delta("geetrio_orm_statements_total", lambda k: True) / seconds},
            "cache": {},
            "rpc": {},
        }
        for key in now_reading.get("geetrio_cache_gets_total", {}):
            node = key[1]  # (group, node): the stack has one group
            if not node:
                continue
            gets = delta("geetrio_cache_gets_total", lambda k, key=key: k == key)
            hits = delta("geetrio_cache_hits_total", lambda k, key=key: k == key)
            loads = delta("geetrio_cache_loads_total", lambda k, key=key: k == key)
            figures["cache"][node] = {
                "gets": gets / seconds,
                "loads": loads / seconds,
                "hit_ratio": hits / gets if gets else None,
            }
        methods = {k[1] for k in now_reading.get("geetrio_rpc_server_calls_total", {})}
        for method in sorted(methods):

            def mine(k: tuple[str, ...], method: str = method) -> bool:
                return k[1] == method

            figures["rpc"][method] = {
                "cps": delta("geetrio_rpc_server_calls_total", mine) / seconds,
                **latency("geetrio_rpc_server_call_duration_seconds", mine),
            }
        return figures


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class Dashboard:
    """The page, its assets and the bridge functions that feed it."""

    def __init__(self, pools: list[HTTPPool]) -> None:
        self.pools = pools
        self.looked_up: str | None = None  # the last key /api was asked for

    def ring(self) -> dict[str, Any]:
        ring = self.pools[0].ring()
        nodes = sorted({owner for _, owner in ring.points()})
        found: dict[str, Any] = {
            "nodes": nodes,
            "points": [[point, nodes.index(owner)] for point, owner in ring.points()],
            "key": None,
        }
        if self.looked_up is not None:
            key = self.looked_up
            found["key"] = {"name": key, "position": ring.position(key), "owner": ring.get(key)}
        return found

    def mount(self, app: Engine, bridge: Bridge) -> None:
        page = (UI / "index.html").read_bytes()

        @app.get("/stats")
        async def stats_page(c: Context) -> None:
            c.set_header("content-type", "text/html; charset=utf-8")
            c.data(200, page)

        app.static("/assets/uplot", UPLOT)
        app.static("/assets/dashboard", UI / "static")

        @bridge.function
        async def dashboard_watch(draw: Callback) -> None:
            """Push a snapshot to the tab every ``INTERVAL`` seconds until it closes."""
            rates = Rates()
            rates.step(read())
            try:
                while True:
                    await trio.sleep(INTERVAL)
                    figures = rates.step(read())
                    if figures is not None:
                        await draw({"t": time.time(), **figures, "ring": self.ring()})
            except PageClosed:
                return

        @bridge.function
        async def dashboard_locate(key: str) -> dict[str, Any]:
            """Where ``key`` sits on the ring, as the picture shows it."""
            self.looked_up = str(key)[:200]
            return self.ring()["key"]  # type: ignore[no-any-return]
