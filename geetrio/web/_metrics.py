"""A Gee app's HTTP metrics (``app.enable_metrics()``): requests by method, route
*pattern* and status class, and how long handling took — labelled so that no request
can add a series: a method outside the standard ones is ``OTHER``, a path no route has
is ``<unmatched>`` (10,000 distinct paths, one series).

The hot path touches only this app's own ``Cells`` (one per route and method, found by
the route object): a few list increments per request. The registry's instruments read
the cells when scraped.
"""

from __future__ import annotations

import importlib.util
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..http import ServerStats
from ..metrics import DEFAULT_BUCKETS, Registry

if TYPE_CHECKING:
    from ._context import Context

__all__ = ["UNMATCHED", "Cells", "HttpMetrics", "scrape"]

UNMATCHED = "<unmatched>"
_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")
)
_CLASSES = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")
_CLASS_OF = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}  # anything else: "0xx"
_BOUNDS = DEFAULT_BUCKETS
_bucket = bisect_left


class Cells:
    """One route and method's numbers: answers per status class, durations per bucket."""

    __slots__ = ("buckets", "classes", "method", "route", "total")

    def __init__(self, method: str, route: str) -> None:
        self.method = method
        self.route = route
        self.classes = [0] * len(_CLASSES)
        self.buckets = [0] * (len(DEFAULT_BUCKETS) + 1)
        self.total = 0.0

    def record(self, status: int, seconds: float) -> None:
        self.classes[_CLASS_OF.get(status // 100, 0)] += 1
        self.buckets[_bucket(_BOUNDS, seconds)] += 1
        self.total += seconds


class HttpMetrics:
    """This app's cells, and the instruments that read them (``server`` their label)."""

    def __init__(self, registry: Registry, server: str) -> None:
        if importlib.util.find_spec("prometheus_client") is None:
            raise ImportError("metrics need prometheus_client: pip install 'geetrio[metrics]'")
        self.server = server
        self._cells: dict[Any, Cells] = {}  # by route object, or (method label, UNMATCHED)
        self.stats = ServerStats()  # its servers' connections and refusals
        registry.gauge(
            "geetrio_http_connections_open",
            "HTTP connections being served now.",
            ("server",),
        ).readers.append(lambda: {(server,): self.stats.open})
        registry.counter(
            "geetrio_http_refused_total",
            "Requests the server answered itself with an error before any handler "
            "(408 too slow, 413 body too large, 431 head too large, 400 malformed ...).",
            ("server", "status"),
        ).readers.append(
            lambda: {(server, str(status)): n for status, n in self.stats.refused.items()}
        )
        registry.counter(
            "geetrio_http_requests_total",
            "HTTP requests answered, by route pattern and status class.",
            ("server", "method", "route", "status"),
        ).readers.append(self._requests)
        registry.histogram(
            "geetrio_http_request_duration_seconds",
            "Seconds from routing a request to its response being ready.",
            ("server", "method", "route"),
        ).readers.append(self._durations)

    def cells(self, route: Any, method: str, pattern: str) -> Cells:
        """The cells of a route (its object: one per pattern and method)."""
        found = self._cells.get(route)
        if found is None:
            found = self._cells[route] = Cells(method, pattern)
            if hasattr(route, "cells"):  # a route object keeps them: found without a lookup
                route.cells = found
        return found

    def unmatched(self, method: str) -> Cells:
        """The cells of requests no route has, per standard method (others: ``OTHER``)."""
        label = method if method in _METHODS else "OTHER"
        return self.cells((label, UNMATCHED), label, UNMATCHED)

    def _requests(self) -> dict[tuple[str, ...], float]:
        found: dict[tuple[str, ...], float] = {}
        for cells in self._cells.values():
            for kind, count in zip(_CLASSES, cells.classes, strict=True):
                if count:
                    found[(self.server, cells.method, cells.route, kind)] = count
        return found

    def _durations(self) -> dict[tuple[str, ...], tuple[list[int], float]]:
        return {
            (self.server, c.method, c.route): (list(c.buckets), c.total)
            for c in self._cells.values()
        }


async def scrape(c: Context) -> None:
    """``GET /metrics``: every metric of the process, as the scraper asks (text or
    OpenMetrics). Cancelled: nothing was sent."""
    body, content_type = metrics.render(metrics.REGISTRY, c.headers.get("accept") or "")
    c.set_header("Content-Type", content_type)
    c.data(200, body)
