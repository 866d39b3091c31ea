"""RPC metrics (issue 20) as an interceptor, opt-in like any other:
``rpc.Server(interceptors=[rpc.metrics_interceptor("scores")])`` records every call
that reaches a registered method (so the method label is bounded by the server's own
methods): ``geetrio_rpc_server_calls_total{server, method, outcome}`` — ok, error
(the method failed), refused (an inner interceptor said no) or cancelled (the handle
timeout) —, the histogram ``geetrio_rpc_server_call_duration_seconds{server, method}``
and ``geetrio_rpc_server_in_flight{server}``. Put it first to see every refusal.

``client_metrics_interceptor("scores")``, given to a client's ``use()`` (or an
``XClient``'s ``interceptors``), records the client's side the same way:
``geetrio_rpc_client_calls_total{client, method, outcome}`` — ok, error (the server's
error), timeout, shutdown (the connection went down), cancelled or failed (anything
else) —, ``geetrio_rpc_client_call_duration_seconds`` and ``..._in_flight``. And every
``Registry`` of the process counts its live servers in ``geetrio_rpc_registry_servers``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sized
from typing import Any

import trio

from ..metrics import REGISTRY, Counter, Gauge, Histogram
from ._errors import RemoteError, RPCTimeout, ShutdownError
from ._intercept import CallInfo, ClientCall, ClientInterceptor, Interceptor, Proceed, Refused

__all__ = ["client_metrics_interceptor", "metrics_interceptor", "registry_opened"]


_HELP = {
    "server": ("RPC calls answered", "an RPC call took to answer", "being answered"),
    "client": ("RPC calls made", "from sending an RPC call to its reply", "waiting for a reply"),
}


def _instruments(side: str, name: str) -> tuple[Counter, Histogram, Gauge]:
    """The calls counter, duration histogram and in-flight gauge of one side, with
    ``name``'s in-flight series shown from the start."""
    calls, took, now = _HELP[side]
    prefix = f"geetrio_rpc_{side}_"
    counter = REGISTRY.counter(
        prefix + "calls_total", f"{calls}, by method and outcome.", (side, "method", "outcome")
    )
    durations = REGISTRY.histogram(
        prefix + "call_duration_seconds", f"Seconds {took}.", (side, "method")
    )
    in_flight = REGISTRY.gauge(prefix + "in_flight", f"RPC calls {now} now.", (side,))
    in_flight.set((name,), in_flight.values.get((name,), 0))
    return counter, durations, in_flight


def metrics_interceptor(server: str = "rpc") -> Interceptor:
    """An interceptor recording each call of the server it is given to as ``server``."""
    calls, durations, in_flight = _instruments("server", server)
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


def client_metrics_interceptor(client: str = "rpc") -> ClientInterceptor:
    """A client interceptor recording each call of the client it is given to as
    ``client``."""
    calls, durations, in_flight = _instruments("client", client)
    clock = time.perf_counter

    async def record(call: ClientCall, proceed: Proceed) -> Any:
        in_flight.inc((client,))
        started = clock()
        outcome = "failed"
        try:
            reply = await proceed()
            outcome = "ok"
            return reply
        except RemoteError:
            outcome = "error"
            raise
        except RPCTimeout:
            outcome = "timeout"
            raise
        except ShutdownError:
            outcome = "shutdown"
            raise
        except trio.Cancelled:
            outcome = "cancelled"
            raise
        finally:
            in_flight.inc((client,), -1)
            method = call.service_method
            calls.inc((client, method, outcome))
            durations.observe((client, method), clock() - started)

    return record


_registries: weakref.WeakSet[Sized] = weakref.WeakSet()


def registry_opened(registry: Sized) -> None:
    """Count ``registry``'s live servers (``len(registry)``) while it exists."""
    _registries.add(registry)


REGISTRY.gauge(
    "geetrio_rpc_registry_servers", "Servers alive in this process's RPC registries."
).readers.append(lambda: {(): sum(len(each) for each in list(_registries))})
