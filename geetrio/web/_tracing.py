"""A Gee request as an OpenTelemetry server span (``geetrio.tracing``): named
``METHOD route-pattern``, continuing the trace its ``traceparent`` header names, with
the status it was answered with; a 5xx (or a chain that raised) ends it as an error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import tracing
from ..http import Response

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

    from ._context import Context

__all__ = ["traced"]


async def traced(tracer: Tracer, c: Context, route: str) -> Response | None:
    """``c.run()`` in a server span. Cancelled: the span ends as an error."""
    request = c.request
    attributes = {
        "http.request.method": request.method,
        "http.route": route,
        "url.path": request.path,
    }
    context = tracing.extract(request.headers)
    name = f"{request.method} {route}"
    with tracing.span(tracer, name, tracing.SERVER, attributes, context) as span:
        response = await c.run()
        span.set_attribute("http.response.status_code", c.status_code)
        if c.status_code >= 500:
            tracing.failed(span, f"answered {c.status_code}")
        return response
