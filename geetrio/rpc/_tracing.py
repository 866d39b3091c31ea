"""RPC calls as OpenTelemetry spans (``geetrio.tracing``): the client's span named
``Service.Method`` writes its ``traceparent`` into the call's metadata; the server
continues that trace in its own span, which ends as an error when the call does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .. import tracing
from .protocol import Header

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["rpc_attributes", "traced_call"]

Call = Callable[[Any, Any, Header], Awaitable[tuple[Any, str]]]


def rpc_attributes(service_method: str) -> dict[str, str | int]:
    service, _, method = service_method.partition(".")
    return {"rpc.system": "geerpc", "rpc.service": service, "rpc.method": method}


async def traced_call(
    tracer: Tracer, call: Call, method: Any, arg: Any, header: Header
) -> tuple[Any, str]:
    """``call(method, arg, header)`` (reply, error) in a server span continuing the
    trace of the call's metadata. Cancelled (the handle timeout): the span ends as an
    error."""
    context = tracing.extract(header.metadata or {})
    attributes = rpc_attributes(header.service_method)
    with tracing.span(tracer, header.service_method, tracing.SERVER, attributes, context) as span:
        reply, error = await call(method, arg, header)
        if error:
            tracing.failed(span, error)
        return reply, error
