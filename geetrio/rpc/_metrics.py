"""RPC metrics (issue 20) as an interceptor, opt-in like any other:
``rpc.Server(interceptors=[rpc.metrics_interceptor("scores")])`` records every call
that reaches a registered method (so the method label is bounded by the server's own
methods): ``geetrio_rpc_server_calls_total{server, method, outcome}`` — ok, error
(the method failed), refused (an inner interceptor said no) or cancelled (the handle
timeout) —, the histogram ``geetrio_rpc_server_call_duration_seconds{server, method}``
and ``geetrio_rpc_server_in_flight{server}``. Put it first to see every refusal."""

from __future__ import annotations

import time
from typing import Any

import trio

from ..metrics import REGISTRY
from ._intercept import CallInfo, Interceptor, Proceed, Refused

__all__ = ["metrics_interceptor"]


def metrics_interceptor(server: str = "rpc") -> Interceptor:
    """An interceptor recording each call of the server it is given to as ``server``."""
    calls = REGISTRY.counter(
        "geetrio_rpc_server_calls_total",
        "RPC calls answered, by method and outcome.",
        ("server", "method", "outcome"),
    )
    durations = REGISTRY.histogram(
        "geetrio_rpc_server_call_duration_seconds",
        "Seconds an RPC call took to answer.",
        ("server", "method"),
    )
    in_flight = REGISTRY.gauge(
        "geetrio_rpc_server_in_flight", "RPC calls being answered now.", ("server",)
    )
    in_flight.set((server,), in_flight.values.get((server,), 0))
    clock = time.perf_counter

    async def record(call: CallInfo, proceed: Proceed) -> Any:
        in_flight.inc((server,))
        started = clock()
        outcome = "error"
        try:
            reply = await proceed()
            outcome = "ok"
            return reply
        except Refused:
            outcome = "refused"
            raise
        except trio.Cancelled:
            outcome = "cancelled"
            raise
        finally:
            in_flight.inc((server,), -1)
            method = call.service_method
            calls.inc((server, method, outcome))
            durations.observe((server, method), clock() - started)

    return record
