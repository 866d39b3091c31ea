"""Counters, gauges and histograms kept as plain numbers in dicts (sans-IO): what the
servers' hot paths touch costs a dict update, and nothing of ``prometheus_client`` is
imported until something is exposed (``_export``).

Each series is a tuple of label values. An instrument holds at most ``max_series`` of
them: past that, new label values are folded into one ``"_overflow"`` series, so no
input — a hostile path, method or key — can grow memory or a scrape without bound.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_BUCKETS",
    "MAX_SERIES",
    "OVERFLOW",
    "Counter",
    "Gauge",
    "Histogram",
    "Instrument",
    "Registry",
]

MAX_SERIES = 2000
OVERFLOW = "_overflow"
# seconds: from half a millisecond (a cached GET) to ten seconds
DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Key = tuple[str, ...]
AnyInstrument = TypeVar("AnyInstrument", bound="Instrument")


@dataclass
class Instrument:
    """What every instrument has: its name, help text and label names; and ``readers``,
    functions a scrape calls for series kept elsewhere (a server's own cells, read only
    when scraped: nothing to keep in step on its hot path)."""

    name: str
    help: str
    labels: tuple[str, ...]
    max_series: int = MAX_SERIES
    readers: list[Callable[[], dict[Key, Any]]] = field(default_factory=list)

    def _read(self) -> dict[Key, Any]:
        found: dict[Key, Any] = {}
        for read in self.readers:
            found.update(read())
        return found

    def _key(self, key: Key, known: dict[Key, object]) -> Key:
        if key in known or len(known) < self.max_series:
            return key
        return (OVERFLOW,) * len(self.labels)


@dataclass
class Counter(Instrument):
    """A count that only goes up, per series: ``inc(("GET", "/"))``."""

    values: dict[Key, float] = field(default_factory=dict)

    def inc(self, key: Key = (), amount: float = 1) -> None:
        values = self.values
        if key not in values:
            key = self._key(key, values)  # type: ignore[arg-type]
        values[key] = values.get(key, 0) + amount

    def current(self) -> dict[Key, float]:
        """Every series now: its own and its readers' (``{key: value}``)."""
        return {**self.values, **self._read()} if self.readers else dict(self.values)


@dataclass
class Gauge(Instrument):
    """A value that goes up and down, per series."""

    values: dict[Key, float] = field(default_factory=dict)

    def set(self, key: Key, value: float) -> None:
        if key not in self.values:
            key = self._key(key, self.values)  # type: ignore[arg-type]
        self.values[key] = value

    def inc(self, key: Key = (), amount: float = 1) -> None:
        self.set(key, self.values.get(key, 0) + amount)

    def current(self) -> dict[Key, float]:
        """Every series now: its own and its readers' (``{key: value}``)."""
        return {**self.values, **self._read()} if self.readers else dict(self.values)


@dataclass
class Histogram(Instrument):
    """Observations per series in fixed buckets (upper bounds, seconds by default):
    per series, the count in each bucket (not cumulative; +Inf last) and the sum."""

    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    counts: dict[Key, list[int]] = field(default_factory=dict)
    sums: dict[Key, float] = field(default_factory=dict)

    def observe(self, key: Key, value: float) -> None:
        counts = self.counts.get(key)
        if counts is None:
            key = self._key(key, self.counts)  # type: ignore[arg-type]
            counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
        counts[bisect_left(self.buckets, value)] += 1
        self.sums[key] = self.sums.get(key, 0.0) + value

    def current(self) -> dict[Key, tuple[list[int], float]]:
        """Every series now: ``{key: (count per bucket, sum)}``, its readers' too."""
        own = {key: (list(counts), self.sums.get(key, 0.0)) for key, counts in self.counts.items()}
        return {**own, **self._read()} if self.readers else own


class Registry:
    """The process's instruments by name (``REGISTRY``): asking twice for one name
    gives the same instrument, so every server of a process shares them."""

    def __init__(self) -> None:
        self._instruments: dict[str, Instrument] = {}

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        return self._get(Counter, name, help, labels)

    def gauge(self, name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
        return self._get(Gauge, name, help, labels)

    def histogram(self, name: str, help: str, labels: Sequence[str] = ()) -> Histogram:
        return self._get(Histogram, name, help, labels)

    def _get(
        self, kind: type[AnyInstrument], name: str, help: str, labels: Sequence[str]
    ) -> AnyInstrument:
        found = self._instruments.get(name)
        if found is None:
            found = self._instruments[name] = kind(name, help, tuple(labels))
        if not isinstance(found, kind) or found.labels != tuple(labels):
            raise ValueError(f"metric {name!r} exists with other labels or of another kind")
        return found

    def __iter__(self) -> Iterator[Instrument]:
        return iter(list(self._instruments.values()))
