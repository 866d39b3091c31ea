"""Metrics of every geetrio server, for Prometheus (issue 20): counters, gauges and
histograms kept as plain numbers in one registry per process (``REGISTRY``), exposed by
``prometheus_client`` (the optional extra ``geetrio[metrics]``) at a Gee app's
``/metrics`` (``app.enable_metrics()``).

>>> from geetrio import metrics
>>> jobs = metrics.REGISTRY.counter("myapp_jobs_total", "Jobs done.", ["kind"])
>>> jobs.inc(("email",))
"""

from ._export import render
from ._instruments import (
    DEFAULT_BUCKETS,
    MAX_SERIES,
    OVERFLOW,
    Counter,
    Gauge,
    Histogram,
    Instrument,
    Registry,
)

REGISTRY = Registry()
"""The process's instruments: every server of geetrio records into it."""

__all__ = [
    "DEFAULT_BUCKETS",
    "MAX_SERIES",
    "OVERFLOW",
    "REGISTRY",
    "Counter",
    "Gauge",
    "Histogram",
    "Instrument",
    "Registry",
    "render",
]
