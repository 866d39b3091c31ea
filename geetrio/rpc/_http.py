"""GeeRPC over HTTP (day 5): ``CONNECT /_geeprc_`` hands the connection to the RPC
server; ``GET /debug/geerpc`` shows the services (an HTML page)."""

from __future__ import annotations

import html
from typing import Protocol

import trio

from ..http._mount import RouteContext, Routes
from ._service import Service

__all__ = ["CONNECTED", "CONNECTED_STATUS", "DEBUG_PATH", "RPC_PATH", "Servable", "mount"]

RPC_PATH = "/_geeprc_"
DEBUG_PATH = "/debug/geerpc"
CONNECTED_STATUS = b"HTTP/1.0 200 Connected to Gee RPC"
CONNECTED = CONNECTED_STATUS + b"\r\n\r\n"  # the whole answer to the CONNECT


class Servable(Protocol):
    """What the routes need of an RPC server (``rpc.Server`` is one)."""

    services: dict[str, Service]

    async def serve_stream(self, stream: trio.abc.Stream) -> None: ...


def mount(server: Servable, app: Routes, path: str, debug_path: str) -> None:
    """Routes on a ``geetrio.web`` Engine: ``CONNECT path`` (other methods on it get
    405 from the router) and ``GET debug_path``."""

    async def connect(c: RouteContext) -> None:
        stream = c.detach(replay_head=False)
        await stream.send_all(CONNECTED)
        await server.serve_stream(stream)

    async def debug(c: RouteContext) -> None:
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, debug_page(server).encode())

    app.add_route("CONNECT", path, connect)
    app.add_route("GET", debug_path, debug)


def debug_page(server: Servable) -> str:
    rows = []
    for name in sorted(server.services):
        service = server.services[name]
        rows.append(f"<h2>Service {html.escape(name)}</h2>")
        rows.append("<table><tr><th>Method</th><th>Argument</th><th>Reply</th><th>Calls</th></tr>")
        for method_name in sorted(service.methods):
            method = service.methods[method_name]
            arg, reply = method.describe()
            rows.append(
                f"<tr><td>{html.escape(method_name)}</td><td>{html.escape(arg)}</td>"
                f"<td>{html.escape(reply)}</td><td>{method.calls}</td></tr>"
            )
        rows.append("</table>")
    body = "\n".join(rows) or "<p>No services registered.</p>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>GeeRPC services</title>"
        "<style>table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        f"</style></head><body><h1>GeeRPC services</h1>\n{body}\n</body></html>"
    )
