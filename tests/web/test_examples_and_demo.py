"""The day examples answer as their docstrings say; the demo server runs as a process."""

from __future__ import annotations

import importlib
import json
import logging
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from geetrio.http import Request
from tests.helpers import RawClient, call, get, read_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "web"


@pytest.fixture(scope="module")
def days() -> dict[str, object]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        return {
            name: importlib.import_module(name)
            for name in (
                "day1_http_base",
                "day2_context",
                "day3_router",
                "day4_group",
                "day5_middleware",
                "day6_template",
                "day7_panic_recover",
            )
        }
    finally:
        sys.path.remove(str(EXAMPLES))


async def test_day1_base_handler(days: dict) -> None:  # type: ignore[type-arg]
    response = await days["day1_http_base"].engine(Request("GET", "/", "/", "", [("Host", "t")]))
    assert response.body == b'URL.Path = "/"\n'


async def test_day2_to_day7(days: dict, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[type-arg]
    d2 = days["day2_context"].app
    assert (
        await call(d2, "GET", "/hello?name=geektutu")
    ).body == b"hello geektutu, you're at /hello\n"
    login = await call(
        d2,
        "POST",
        "/login",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"username=geektutu&password=1234",
    )
    assert json.loads(login.body) == {"username": "geektutu", "password": "1234"}
    d3 = days["day3_router"].app
    assert (await call(d3, "GET", "/hello/b/c")).body == b"the static route /hello/b/c\n"
    assert json.loads((await call(d3, "GET", "/assets/css/geektutu.css")).body) == {
        "filepath": "css/geektutu.css"
    }
    d4 = days["day4_group"].app
    assert (await call(d4, "GET", "/v2/hello/tom")).body == b"hello tom, you're at /v2/hello/tom\n"
    assert (await call(d4, "GET", "/v2/admin")).body == b"admin at /v2/admin\n"
    d5 = days["day5_middleware"].app
    with caplog.at_level(logging.INFO, logger="day5"):
        response = await call(d5, "GET", "/v2/hello/tom")
        outside = await call(d5, "GET", "/")
    assert (response.status, response.body) == (200, b"hello tom, you're at /v2/hello/tom\n")
    assert outside.body == b"<h1>Hello Gee</h1>"
    group_lines = [r.getMessage() for r in caplog.records if r.name == "day5"]
    assert len(group_lines) == 1  # the v2 middleware ran for /v2/hello/tom only...
    assert group_lines[0].startswith("[200] /v2/hello/tom in ")  # ...after the handler
    d6 = days["day6_template"].app
    assert b"0: Geektutu is 20 years old" in (await call(d6, "GET", "/students")).body
    assert b"Date: 2019-08-17" in (await call(d6, "GET", "/date")).body
    d7 = days["day7_panic_recover"].app
    assert (await call(d7, "GET", "/panic")).status == 500
    assert (await call(d7, "GET", "/")).body == b"Hello Geektutu\n"


@pytest.mark.parametrize("workers", [1, 2])
async def test_demo_server_process_serves_and_stops_on_sigint(workers: int) -> None:
    demo = [sys.executable, str(ROOT / "servers" / "web_demo.py"), "--port", "0"]
    process = await trio.lowlevel.open_process(
        [*demo, "--workers", str(workers)],
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        listening = re.compile(rb"listening on http://[\d.]+:(\d+)")
        match = listening.search(await read_until(process.stderr, listening.search, "web_demo"))
        assert match is not None
        port = int(match.group(1))
        client = await RawClient.connect(port)
        home = await client.request(get("/"))
        assert home.status == 200 and b"/ws/echo" in home.body
        assert (await client.request(get("/v2/hello/x"))).headers["x-group"] == "v2"
        await client.aclose()
        process.send_signal(signal.SIGINT)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await process.stderr.aclose()
