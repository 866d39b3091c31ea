"""The instruments as Prometheus sees them: a ``prometheus_client`` collector over the
process's ``Registry``, registered once with ``prometheus_client.REGISTRY`` (so an
application's own metrics come out on the same ``/metrics``), and the text a scrape
gets. ``prometheus_client`` is imported here only: the optional extra
``geetrio[metrics]``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from ._instruments import Counter, Gauge, Histogram, Registry

__all__ = ["render"]

_registered: set[int] = set()
_lock = threading.Lock()


class _Collector:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def describe(self) -> list[Any]:
        return []  # families come and go with the servers of the process

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        for instrument in self.registry:
            labels = list(instrument.labels)
            if isinstance(instrument, Counter):
                name = instrument.name.removesuffix("_total")
                counter = CounterMetricFamily(name, instrument.help, labels=labels)
                for key, value in instrument.current().items():
                    counter.add_metric(list(key), value)
                yield counter
            elif isinstance(instrument, Gauge):
                gauge = GaugeMetricFamily(instrument.name, instrument.help, labels=labels)
                for key, value in instrument.current().items():
                    gauge.add_metric(list(key), value)
                yield gauge
            elif isinstance(instrument, Histogram):
                family = HistogramMetricFamily(instrument.name, instrument.help, labels=labels)
                bounds = [repr(float(b)) for b in instrument.buckets] + ["+Inf"]
                for key, (counts, total) in instrument.current().items():
                    running, cumulative = 0, []
                    for bound, count in zip(bounds, counts, strict=True):
                        running += count
                        cumulative.append((bound, running))
                    family.add_metric(list(key), cumulative, total)
                yield family


def render(registry: Registry, accept: str = "") -> tuple[bytes, str]:
    """The scrape: (body, content type) of every metric of ``prometheus_client.REGISTRY``,
    ``registry``'s among them (registered on first use). ``accept``: the scraper's
    ``Accept`` header (OpenMetrics when it asks for it)."""
    from prometheus_client import REGISTRY
    from prometheus_client.exposition import choose_encoder

    with _lock:
        if id(registry) not in _registered:
            REGISTRY.register(_Collector(registry))
            _registered.add(id(registry))
    encoder, content_type = choose_encoder(accept)
    return encoder(REGISTRY), content_type
