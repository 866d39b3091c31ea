"""The servers under test, each started as its own process by bench_web.py.

Every server answers the same two routes: ``GET /`` -> 13-byte text and
``GET /user/:name`` -> a small JSON object.

    python benchmarks/web/servers.py geetrio PORT [KEEP_ALIVE [HEADER_TIMEOUT]]
    python benchmarks/web/servers.py geetrio-recovery PORT
    python benchmarks/web/servers.py geetrio-metrics PORT  (app.enable_metrics())
    python benchmarks/web/servers.py uvicorn PORT          (uvloop + httptools: uvicorn[standard])
    python benchmarks/web/servers.py uvicorn-asyncio PORT  (plain asyncio loop + httptools)
    python benchmarks/web/servers.py hypercorn-trio PORT
    python benchmarks/web/servers.py bare PORT   (the floor: trio + httptools, no framework)

With ``BENCH_TLS_CERT`` set (a PEM file holding the key and the certificate chain),
geetrio and uvicorn serve HTTPS with it (bench_https.py).
"""

from __future__ import annotations

import os
import resource
import sys
from typing import Any


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def geetrio(
    port: int,
    with_recovery: bool,
    keep_alive: float,
    header_timeout: float,
    with_metrics: bool = False,
) -> None:
    import trio

    from geetrio.http import ServerConfig, server_ssl_context
    from geetrio.web import Context, Engine, recovery

    app = Engine()
    if with_recovery:
        app.use(recovery())
    if with_metrics:
        app.enable_metrics()

    @app.get("/")
    async def index(c: Context) -> None:
        c.string(200, "Hello, World!")

    @app.get("/user/:name")
    async def user(c: Context) -> None:
        c.json(200, {"name": c.param("name"), "id": 42})

    cert = os.environ.get("BENCH_TLS_CERT")
    config = ServerConfig(
        keep_alive_timeout=keep_alive,
        header_timeout=header_timeout,
        ssl_context=server_ssl_context(cert) if cert else None,
    )
    trio.run(lambda: app.serve("127.0.0.1", port, config=config))


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def index(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    async def user(request: Any) -> JSONResponse:
        return JSONResponse({"name": request.path_params["name"], "id": 42})

    return Starlette(routes=[Route("/", index), Route("/user/{name}", user)])


def uvicorn_server(port: int, loop: str, keep_alive: float) -> None:
    import uvicorn

    uvicorn.run(
        starlette_app(),
        host="127.0.0.1",
        port=port,
        loop=loop,
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=int(keep_alive),
        ssl_certfile=os.environ.get("BENCH_TLS_CERT"),
        ssl_keyfile=os.environ.get("BENCH_TLS_CERT"),
    )


def hypercorn_trio(port: int, keep_alive: float) -> None:
    import trio
    from hypercorn.config import Config
    from hypercorn.trio import serve

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.loglevel = "WARNING"
    config.keep_alive_timeout = keep_alive
    trio.run(serve, starlette_app(), config)


def bare(port: int) -> None:
    """The least a trio server on httptools can do for these two routes: one task per
    connection, the parser's callbacks, a response built with an f-string, one
    ``send_all`` per batch of pipelined requests. No limits, no timeouts, no
    framework: the floor the issue measures geetrio's cost against."""
    import json
    import time
    from email.utils import formatdate
    from functools import partial

    import httptools
    import trio

    dated = [0, ""]

    def today() -> str:  # the Date header, made once a second
        now = int(time.time())
        if now != dated[0]:
            dated[:] = [now, formatdate(now, usegmt=True)]
        return str(dated[1])

    class Connection:
        def __init__(self) -> None:
            self.url = b""
            self.out: list[bytes] = []
            self.parser = httptools.HttpRequestParser(self)

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_message_complete(self) -> None:
            path = self.url.decode()
            self.url = b""
            if path == "/":
                body, kind = b"Hello, World!", "text/plain; charset=utf-8"
            elif path.startswith("/user/"):
                body = json.dumps({"name": path[6:], "id": 42}).encode()
                kind = "application/json"
            else:
                body, kind = b"404", "text/plain"
            head = (
                f"HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {len(body)}"
                f"\r\ndate: {today()}\r\n\r\n"
            )
            self.out.append(head.encode() + body)

    async def handle(stream: trio.SocketStream) -> None:
        connection = Connection()
        try:
            while data := await stream.receive_some(65536):
                connection.parser.feed_data(data)
                if connection.out:
                    await stream.send_all(b"".join(connection.out))
                    connection.out.clear()
        except (trio.BrokenResourceError, httptools.HttpParserError):
            pass
        finally:
            await stream.aclose()

    trio.run(partial(trio.serve_tcp, handle, port, host="127.0.0.1"))


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    keep_alive = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    header_timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    raise_fd_limit()
    if name == "geetrio":
        geetrio(port, False, keep_alive, header_timeout)
    elif name == "geetrio-recovery":
        geetrio(port, True, keep_alive, header_timeout)
    elif name == "geetrio-metrics":
        geetrio(port, False, keep_alive, header_timeout, with_metrics=True)
    elif name == "uvicorn":
        uvicorn_server(port, "uvloop", keep_alive)
    elif name == "uvicorn-asyncio":
        uvicorn_server(port, "asyncio", keep_alive)
    elif name == "hypercorn-trio":
        hypercorn_trio(port, keep_alive)
    elif name == "bare":
        bare(port)
    else:
        raise SystemExit(f"unknown server {name!r}")


if __name__ == "__main__":
    main()
