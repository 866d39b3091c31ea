"""Traces with OpenTelemetry (issue 20): a span per HTTP request of a Gee app, RPC call
(client and server), cache load (the flight, the local getter, the peer fetch) and SQL
statement; the W3C ``traceparent`` (and ``tracestate``, baggage: whatever the global
propagator carries) goes over HTTP to cache peers and in RPC metadata, so one trace
crosses processes.

Nothing is recorded until an OpenTelemetry SDK is configured — a global
``TracerProvider`` (``opentelemetry.trace.set_tracer_provider``). Until then every
instrumented place asks ``tracer()``, which costs a global lookup and, at most once a
second, a look at the global provider (so tracing starts within a second of the SDK
being configured), and does nothing else. Without ``opentelemetry-api`` (the extra
``geetrio[traces]``) ``tracer()`` is None for good.

>>> from opentelemetry import trace                             # doctest: +SKIP
>>> from opentelemetry.sdk.trace import TracerProvider          # doctest: +SKIP
>>> trace.set_tracer_provider(TracerProvider())  # then add a span processor and exporter
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import propagate, trace
    from opentelemetry.context import Context
    from opentelemetry.trace import (
        NoOpTracerProvider,
        ProxyTracerProvider,
        Span,
        SpanKind,
        StatusCode,
        Tracer,
    )

    CLIENT, SERVER, INTERNAL = SpanKind.CLIENT, SpanKind.SERVER, SpanKind.INTERNAL
except ImportError:  # the extra geetrio[traces] is not installed: nothing is traced
    trace = None  # type: ignore[assignment]

__all__ = [
    "CLIENT",
    "INTERNAL",
    "RECHECK_SECONDS",
    "SERVER",
    "client_span",
    "current_ids",
    "extract",
    "failed",
    "span",
    "tracer",
]

RECHECK_SECONDS = 1.0  # how often an unconfigured process looks for a provider again

_tracer: Tracer | None = None
_checked = -math.inf
_clock = time.monotonic


def tracer() -> Tracer | None:
    """geetrio's tracer once a real ``TracerProvider`` is set, else None: the caller
    then skips every tracing step."""
    global _checked, _tracer
    if _tracer is not None:
        return _tracer
    if trace is None:
        return None
    now = _clock()
    if now - _checked < RECHECK_SECONDS:
        return None
    _checked = now
    provider = trace.get_tracer_provider()
    if isinstance(provider, ProxyTracerProvider | NoOpTracerProvider):
        return None
    _tracer = provider.get_tracer("geetrio")
    return _tracer


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in hex (as W3C writes them), or None
    outside a recorded span."""
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def extract(carrier: Mapping[str, Any]) -> Context:
    """The trace context a request carried (its ``traceparent`` header or metadata)."""
    return propagate.extract(carrier)


def failed(current: Span, description: str = "") -> None:
    """Mark ``current`` as failed (a 5xx answered, an RPC error replied)."""
    current.set_status(StatusCode.ERROR, description[:200] or None)


@contextmanager
def span(
    tracer: Tracer,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, str | int],
    context: Context | None = None,
) -> Iterator[Span]:
    """``name`` as the current span for the block (a child of ``context``, else of
    the current span): an exception — ``Cancelled`` included — ends it as an error."""
    with tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, record_exception=False
    ) as current:
        try:
            yield current
        except BaseException as exc:
            failed(current, f"{type(exc).__name__}: {exc}")
            raise


@contextmanager
def client_span(
    tracer: Tracer,
    name: str,
    attributes: Mapping[str, str | int],
    carrier: MutableMapping[str, str],
) -> Iterator[Span]:
    """A client span for the block, its context written into ``carrier`` (headers or
    RPC metadata) for the other side to continue the trace."""
    with span(tracer, name, SpanKind.CLIENT, attributes) as current:
        propagate.inject(carrier)
        yield current
