"""Real HTTP clients against a real server: httpx (sync, in a thread) and curl."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import trio

from geetrio.web import Context, default


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    app = default()

    @app.get("/hello/:name")
    async def hello(c: Context) -> None:
        c.string(200, "hello %s\n", c.param("name"))

    @app.post("/echo")
    async def echo(c: Context) -> None:
        c.json(200, {"length": len(c.body), "type": c.headers.get("content-type", "")})

    @app.get("/panic")
    async def panic(c: Context) -> None:
        raise ValueError("boom")

    return await nursery.start(app.serve, "127.0.0.1", 0)


async def test_httpx_keep_alive_json_chunked_upload_and_recovery(port: int) -> None:
    def scenario() -> list[object]:
        results: list[object] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            results.append(client.get("/hello/geektutu").text)
            results.append(client.post("/echo", json={"a": 1}).json())

            def chunks():  # type: ignore[no-untyped-def]
                yield b"x" * 1000
                yield b"y" * 2000

            results.append(client.post("/echo", content=chunks()).json())  # chunked
            results.append(client.get("/panic").status_code)
            results.append(client.get("/nope").text)
            results.append(client.head("/hello/x").headers["content-length"])
        return results

    results = await trio.to_thread.run_sync(scenario)
    assert results == [
        "hello geektutu\n",
        {"length": 7, "type": "application/json"},
        {"length": 3000, "type": ""},
        500,
        "404 NOT FOUND: /nope\n",
        "8",
    ]


async def test_curl_with_expect_100_continue(port: int, tmp_path: Path) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl is installed by `make test` (make tools)"
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"z" * 100_000)
    result = await trio.run_process(
        [
            curl,
            "-sS",
            "-v",
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            f"@{upload}",
            f"http://127.0.0.1:{port}/echo",
        ],
        capture_stdout=True,
        capture_stderr=True,
    )
    assert b'{"length":100000' in result.stdout
    assert b"Expect: 100-continue" in result.stderr
    assert b"HTTP/1.1 100 Continue" in result.stderr
    simple = await trio.run_process(
        [curl, "-sS", f"http://127.0.0.1:{port}/hello/curl"], capture_stdout=True
    )
    assert simple.stdout == b"hello curl\n"
