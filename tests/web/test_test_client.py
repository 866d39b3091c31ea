"""``web.TestClient``: a Gee app driven in-process through the real server loop and
parser — requests with bodies and JSON, streamed uploads, chunked answers, cookies kept
like a browser's, limits and malformed requests answered as on a socket."""

from __future__ import annotations

from geetrio.http import ServerConfig
from geetrio.web import Context, Engine, TestClient, sessions


def app() -> Engine:
    engine = Engine()
    engine.use(sessions(["test-client-key-0123456789"]))

    @engine.get("/hello")
    async def hello(c: Context) -> None:
        c.string(200, "hello %s", c.query("name", "world"))

    @engine.post("/echo")
    async def echo(c: Context) -> None:
        c.json(201, {"got": c.body.decode(), "type": c.headers.get("content-type", "")})

    @engine.post("/upload", stream_body=True)
    async def upload(c: Context) -> None:
        size = 0
        async for chunk in c.stream_body():
            size += len(chunk)
        c.json(200, {"size": size})

    @engine.get("/count")
    async def count(c: Context) -> None:
        c.session["n"] = c.session.get("n", 0) + 1
        c.string(200, "%d", c.session["n"])

    @engine.get("/chunks")
    async def chunks(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            for part in (b"a", b"b", b"c"):
                yield part

        c.stream(200, produce())

    return engine


async def test_requests_go_through_the_whole_server() -> None:
    async with TestClient(app()) as client:
        hello = await client.get("/hello?name=geetrio")
        assert (hello.status, hello.text) == (200, "hello geetrio")
        assert hello.headers["content-length"] == "13" and "date" in hello.headers
        posted = await client.post("/echo", json={"a": 1})
        assert posted.status == 201
        assert posted.json() == {"got": '{"a": 1}', "type": "application/json"}
        uploaded = await client.post("/upload", body=b"x" * 300_000)
        assert uploaded.json() == {"size": 300_000}
        assert (await client.get("/chunks")).body == b"abc"  # chunked on the wire
        assert (await client.head("/hello")).body == b""
        missing = await client.get("/nowhere")
        assert missing.status == 404


async def test_cookies_are_kept_like_a_browser_jar() -> None:
    async with TestClient(app()) as client:
        assert [(await client.get("/count")).text for _ in range(3)] == ["1", "2", "3"]
        assert "session" in client.cookies
        client.cookies.clear()
        assert (await client.get("/count")).text == "1"


async def test_the_servers_limits_apply() -> None:
    async with TestClient(app(), config=ServerConfig(max_body_bytes=1000)) as client:
        assert (await client.post("/echo", body=b"x" * 5000)).status == 413
        bad = await client.request("GET", "/hello", headers=[("Bad Header", "x")])
        assert bad.status == 400
        assert (await client.get("/hello")).status == 200  # and the app goes on
