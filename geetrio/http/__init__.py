"""HTTP/1.1 over trio streams: a sans-IO parser and a server loop with limits.

>>> from geetrio.http import Response, serve
>>> async def hello(request):
...     return Response(200, [("content-type", "text/plain")], b"hello\\n")
>>> # port = await nursery.start(serve, hello, "127.0.0.1", 0)
"""

from .client import HTTPClient
from .config import ServerConfig, default_max_connections
from .errors import ClientError, HTTPError, ProtocolError
from .headers import Headers
from .message import Request, Response, Transport, render_head
from .mount import RouteContext, Routes
from .parser import RequestParser
from .pipeline import PipelinedClient, open_pipelined_client
from .response_parser import ClientResponse, ResponseParser
from .server import serve, serve_listeners
from .signals import run_until_signal
from .streams import PrefixedStream
from .target import decode_path
from .types import Handler

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
    "Transport",
    "decode_path",
    "default_max_connections",
    "open_pipelined_client",
    "render_head",
    "run_until_signal",
    "serve",
    "serve_listeners",
]
