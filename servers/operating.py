"""What every server program offers its operators (issue 20): ``/metrics`` for
Prometheus, ``/healthz`` and ``/readyz`` for load balancers and Kubernetes probes, the
readiness checks of the parts they depend on (a registry, etcd); and the options
``--log-level``, ``--log-format text|json`` and ``--trace-file PATH`` (OpenTelemetry
spans as JSON lines, for tests and local looks; configure an SDK exporter of your own
for a collector)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Collection
from functools import partial

from security import Security

from geetrio import rpc
from geetrio.discovery import list_servers
from geetrio.logs import JSONFormatter
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


def add_arguments(parser: argparse.ArgumentParser, log_level: str = "INFO") -> None:
    parser.add_argument("--log-level", default=log_level)
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one object per line, with the request id and trace id when there is one",
    )
    parser.add_argument(
        "--trace-file",
        default="",
        help="record OpenTelemetry spans to this file, one JSON object per line "
        "(needs opentelemetry-sdk)",
    )


def configure(args: argparse.Namespace, service: str) -> None:
    """Logging as ``--log-level``/``--log-format`` say; spans to ``--trace-file``."""
    handler = logging.StreamHandler()
    if args.log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=args.log_level, handlers=[handler])
    if args.trace_file:
        trace_to_file(args.trace_file, service)


def trace_to_file(path: str, service: str) -> None:
    """Every span of this process, once ended, as a JSON line appended to ``path``
    (written at once: the file is small and local)."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    def one_line(span: ReadableSpan) -> str:
        return span.to_json(indent=None) + "\n"

    out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = ConsoleSpanExporter(out=out, formatter=one_line)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
