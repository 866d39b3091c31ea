"""Day 1 — http.Handler basics: one function answers every request.

Gee starts from Go's ``http.Handler``: an object whose ``ServeHTTP`` sees every
request. geetrio's base layer is the same idea on trio: ``geetrio.http.serve`` calls
``async def handler(request) -> Response`` for each request on each connection.

    python examples/web/day1_http_base.py --port 9999
    curl http://127.0.0.1:9999/          ->  URL.Path = "/"
    curl http://127.0.0.1:9999/hello     ->  Header["Accept"] = ["*/*"] ...
"""

from __future__ import annotations

import argparse
from functools import partial

import trio

from geetrio.http import Request, Response, serve

TEXT = [("content-type", "text/plain; charset=utf-8")]


async def engine(request: Request) -> Response:
    if request.path == "/":
        return Response(200, TEXT, f'URL.Path = "{request.path}"\n'.encode())
    if request.path == "/hello":
        lines = [f'Header["{name}"] = ["{value}"]\n' for name, value in request.raw_headers]
        return Response(200, TEXT, "".join(lines).encode())
    return Response(404, TEXT, f"404 NOT FOUND: {request.path}\n".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args()
    trio.run(partial(serve, engine, args.host, args.port))


if __name__ == "__main__":
    main()
