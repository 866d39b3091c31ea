"""The servers of bench_apps.py, one process each: the same application written for
geetrio and for its Python peer (FastAPI, or starlette with its middleware), both peers
on uvicorn with uvloop and httptools (what ``uvicorn[standard]`` users get).

    python benchmarks/web/app_servers.py geetrio PORT [WORKERS]
    python benchmarks/web/app_servers.py fastapi PORT
    python benchmarks/web/app_servers.py starlette PORT

Routes: ``POST /orders`` binds a 1 KB JSON order into the dataclass ``Order`` and answers
JSON; ``GET /report`` answers a 10 KB JSON document through gzip; ``POST /upload`` takes a
multipart upload (files spooled to disk past 1 MiB) and answers its size; ``GET /``
answers 13 bytes of text.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any


@dataclasses.dataclass
class Item:
    sku: str
    qty: int
    price: float


@dataclasses.dataclass
class Address:
    street: str
    city: str
    zip: str


@dataclasses.dataclass
class Order:
    id: int
    customer: str
    email: str
    address: Address
    items: list[Item]
    note: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)


def summary(order: Order) -> dict[str, Any]:
    total = sum(item.qty * item.price for item in order.items)
    return {"id": order.id, "customer": order.customer, "items": len(order.items), "total": total}


REPORT = {
    "rows": [
        {"id": i, "name": f"item {i}", "city": "London", "price": i * 1.25, "stock": i % 7}
        for i in range(132)
    ]
}
SPOOL = 1 << 20


def geetrio(port: int, workers: int) -> None:
    from geetrio.http import ServerConfig
    from geetrio.web import Context, Engine, FormLimits, gzip

    app = Engine()
    app.form_limits = FormLimits(spool_bytes=SPOOL, max_file_bytes=1 << 30)
    zipped = app.group("/")
    zipped.use(gzip())

    @app.get("/")
    async def index(c: Context) -> None:
        c.string(200, "Hello, World!")

    @app.post("/orders")
    async def orders(c: Context) -> None:
        c.json(200, summary(await c.bind(Order)))

    @zipped.get("/report")
    async def report(c: Context) -> None:
        c.json(200, REPORT)

    @app.post("/upload", stream_body=True)
    async def upload(c: Context) -> None:
        form = await c.form()
        c.json(200, {"size": sum(f.size for files in form.files.values() for f in files)})

    app.run(f"127.0.0.1:{port}", config=ServerConfig(), workers=workers)


def fastapi(port: int) -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/orders")
    async def orders(order: Order) -> dict[str, Any]:
        return summary(order)

    run_uvicorn(app, port)


def starlette(port: int) -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def index(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    async def report(request: Request) -> JSONResponse:
        return JSONResponse(REPORT)

    async def upload(request: Request) -> JSONResponse:
        async with request.form(max_part_size=SPOOL) as form:
            size = sum(f.size or 0 for _, f in form.multi_items() if not isinstance(f, str))
        return JSONResponse({"size": size})

    routes = [
        Route("/", index),
        Route("/report", report),
        Route("/upload", upload, methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, minimum_size=500)])
    run_uvicorn(app, port)


def run_uvicorn(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    if name == "geetrio":
        geetrio(port, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    elif name == "fastapi":
        fastapi(port)
    elif name == "starlette":
        starlette(port)
    else:
        raise SystemExit(f"unknown server {name!r}")


ORDER_BODY = json.dumps(
    {
        "id": 1,
        "customer": "Ada Lovelace",
        "email": "ada@example.com",
        "address": {"street": "12 St James's Square", "city": "London", "zip": "SW1Y 4JH"},
        "items": [{"sku": f"SKU-{i:04d}", "qty": i, "price": i * 1.25} for i in range(16)],
        "note": "leave at the door",
        "tags": ["gift", "priority"],
    }
)

if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
