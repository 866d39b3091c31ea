"""What every server program serves for its operators (issue 20): ``/metrics`` for
Prometheus, ``/healthz`` and ``/readyz`` for load balancers and Kubernetes probes —
and the readiness checks of the parts they depend on (a registry, etcd)."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from security import Security

from geetrio import rpc
from geetrio.discovery import list_servers
from geetrio.web import Check, Engine


def operate(
    app: Engine, server: str, checks: dict[str, Check] | None = None, advisory: Collection[str] = ()
) -> None:
    """``/metrics`` (this app's requests labelled ``server``), ``/healthz``, and
    ``/readyz`` over ``checks`` (those in ``advisory`` only reported)."""
    app.enable_metrics(server=server)
    app.enable_health(checks, advisory=advisory)


def registry_check(registry: str, security: Security) -> Check:
    """Ready while the registry answers its listing."""
    return partial(
        list_servers, registry, secret=security.secret, ssl_context=security.client_context()
    )


def etcd_check(url: str, security: Security) -> Check:
    """Ready while etcd answers a read of the RPC servers' prefix."""
    endpoint = security.etcd(url)

    async def check() -> None:
        async with endpoint.client() as etcd:
            await etcd.get_prefix(rpc.DEFAULT_ETCD_PREFIX)

    return check
