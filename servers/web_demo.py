"""The demo web app that `make run` starts: Gee's seven days in one server.

Routes: a home page (template) linking everything, query and path parameters, groups
with middleware, templates with a func map, static files, a panic route (recovery), and
a WebSocket echo on the same port. Ctrl-C drains gracefully; a second Ctrl-C stops.

    python servers/web_demo.py --host 127.0.0.1 --port 9999 [--workers N]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
from pathlib import Path

import trio_websocket

from geetrio.bridge import Bridge
from geetrio.http import ServerConfig
from geetrio.web import Context, Engine, logger, recovery, request_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operating
from loading import load_file

ASSETS = Path(__file__).resolve().parent.parent / "examples" / "web"
log = logging.getLogger("geetrio.demo")


def build_app() -> Engine:
    app = Engine()
    app.use(request_id(), logger(), recovery())  # the id first: the access log line has it
    operating.operate(app, "web-demo")
    app.set_func_map({"format_as_date": lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}"})
    app.load_html_glob(str(ASSETS / "templates" / "*.tmpl"))
    app.static("/assets", ASSETS / "static")

    @app.get("/")
    async def index(c: Context) -> None:
        c.html(200, "index.tmpl", {})

    @app.get("/hello")
    async def hello_query(c: Context) -> None:
        c.string(200, "hello %s, you're at %s\n", c.query("name", "stranger"), c.path)

    @app.get("/hello/:name")
    async def hello_param(c: Context) -> None:
        c.string(200, "hello %s, you're at %s\n", c.param("name"), c.path)

    v1 = app.group("/v1")

    @v1.get("/hello")
    async def v1_hello(c: Context) -> None:
        c.string(200, "v1: hello %s\n", c.query("name"))

    v2 = app.group("/v2")

    async def stamp(c: Context) -> None:
        await c.next()
        c.set_header("X-Group", "v2")

    v2.use(stamp)

    @v2.get("/hello/:name")
    async def v2_hello(c: Context) -> None:
        c.json(200, {"hello": c.param("name"), "path": c.path})

    @app.get("/students")
    async def students(c: Context) -> None:
        c.html(
            200,
            "arr.tmpl",
            {
                "title": "gee",
                "stu_arr": [{"name": "Geektutu", "age": 20}, {"name": "Jack", "age": 22}],
            },
        )

    @app.get("/date")
    async def date(c: Context) -> None:
        c.html(200, "custom_func.tmpl", {"title": "gee", "now": datetime.date(2019, 8, 17)})

    @app.get("/panic")
    async def panic(c: Context) -> None:
        names = ["geektutu"]
        c.string(200, names[100])

    @app.websocket("/ws/echo")
    async def echo(c: Context, ws: trio_websocket.WebSocketConnection) -> None:
        while True:
            await ws.send_message(await ws.get_message())

    # The Go series' WebAssembly demos, twice: Python driving the page from the server
    # (the bridge) and Python in the page (Pyodide, after `make pyodide`).
    bridge = Bridge()
    bridge.mount(app)
    load_file("examples/bridge/demos.py", "bridge_demos").mount_demos(app, bridge)
    load_file("examples/wasm/wasm_demos.py", "wasm_demos").mount(app)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="geetrio demo web app (Gee, days 1-7)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=9999, help="TCP port (0 = any free port)")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes serving the port (SO_REUSEPORT)"
    )
    operating.add_arguments(parser)
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    operating.configure(args, "web-demo")
    log.info("geetrio demo: open http://%s:%d/ (Ctrl-C to stop)", args.host, args.port)
    build_app().run(f"{args.host}:{args.port}", config=ServerConfig(), workers=args.workers)


if __name__ == "__main__":
    main()
