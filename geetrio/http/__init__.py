"""HTTP/1.1 over trio streams: a sans-IO parser and a server loop with limits.

>>> from geetrio.http import Response, serve
>>> async def hello(request):
...     return Response(200, [("content-type", "text/plain")], b"hello\\n")
>>> # port = await nursery.start(serve, hello, "127.0.0.1", 0)
"""

from .._core.tls import client_context as client_ssl_context
from .._core.tls import server_context as server_ssl_context
from ._client import HTTPClient
from ._config import ServerConfig, default_max_connections
from ._errors import ClientError, HTTPError, ProtocolError
from ._headers import Headers
from ._message import Request, Response, Transport, render_head
from ._mount import RouteContext, Routes
from ._parser import RequestParser
from ._pipeline import PipelinedClient, open_pipelined_client
from ._response_parser import ClientResponse, ResponseParser
from ._server import serve, serve_listeners
from ._signals import run_until_signal
from ._stats import ServerStats
from ._streams import PrefixedStream
from ._target import decode_path
from ._types import Handler
from ._workers import bind_slots, run_workers

__all__ = [
    "ClientError",
    "ClientResponse",
    "HTTPClient",
    "HTTPError",
    "Handler",
    "Headers",
    "PipelinedClient",
    "PrefixedStream",
    "ProtocolError",
    "Request",
    "RequestParser",
    "Response",
    "ResponseParser",
    "RouteContext",
    "Routes",
    "ServerConfig",
    "ServerStats",
    "Transport",
    "bind_slots",
    "client_ssl_context",
    "decode_path",
    "default_max_connections",
    "open_pipelined_client",
    "render_head",
    "run_until_signal",
    "run_workers",
    "serve",
    "serve_listeners",
    "server_ssl_context",
]
