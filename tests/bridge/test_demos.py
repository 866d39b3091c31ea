"""The four bridge demo pages: their HTML (the contract's ids) and their Python side,
with the page played over a WebSocket (the browser tests come with the stack)."""

from __future__ import annotations

import json

import pytest
import trio

from geetrio.bridge import Bridge
from geetrio.web import Engine
from servers.loading import load_file
from tests.bridge.test_bridge import fake_page
from tests.helpers import RawClient, get

demos = load_file("examples/bridge/demos.py", "bridge_demos")
DEMOS, fib, mount_demos = demos.DEMOS, demos.fib, demos.mount_demos


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    app = Engine()
    bridge = Bridge()
    bridge.mount(app)
    mount_demos(app, bridge, callback_delay=0.01)
    return await nursery.start(app.serve, "127.0.0.1", 0)


def test_fib_as_in_the_go_demos() -> None:
    assert [fib(n) for n in range(8)] == [1, 1, 2, 3, 5, 8, 13, 21]
    assert fib(10) == 89
    for bad in (-1, 91, "3", True):
        with pytest.raises(ValueError):
            fib(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("demo", DEMOS)
async def test_each_page_has_the_contract_ids(port: int, demo: str) -> None:
    client = await RawClient.connect(port)
    response = await client.request(get(f"/demo/bridge/{demo}"))
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    page = response.body.decode()
    assert f'src="/_bridge/client.js" data-page="{demo}"' in page
    for element in ('id="num" type="number"', 'id="btn"', 'id="ans"'):
        assert (element in page) == (demo != "hello-world")
    assert (await client.request(get("/demo/bridge/nope"))).status == 404
    await client.aclose()


async def test_hello_world(port: int) -> None:
    async with fake_page(port, "hello-world") as page:
        with trio.fail_after(5):
            while len(page.log) < 2:
                await trio.testing.wait_all_tasks_blocked(cushion=0.01)
    assert [m["op"] for m in page.log] == ["ready", "alert"]
    assert page.log[1]["text"] == "Hello World!"


async def test_register_functions(port: int) -> None:
    async with fake_page(port, "register-functions") as page:
        with trio.fail_after(5):
            assert (await page.call("fibFunc", 10))["value"] == 89
            assert (await page.call("fibFunc", 0))["value"] == 1
            bad = await page.call("fibFunc", "ten")
    assert bad["op"] == "fail" and "0 to 90" in bad["message"]


async def test_manipulate_dom(port: int) -> None:
    async with fake_page(port, "manipulate-dom") as page:
        with trio.fail_after(5):
            await page.ready.wait()
            on = next(m for m in page.log if m["op"] == "on")
            await page.ws.send_message(
                json.dumps({"op": "event", "handler": on["handler"], "event": {"type": "click"}})
            )
            assert await page.wait_for(("#ans", "innerHTML")) == "89"


async def test_callback(port: int) -> None:
    async with fake_page(port, "callback") as page:
        with trio.fail_after(5):
            done = await page.call("fibLater", 10, {"$callback": 1})
            assert done == {"id": 1, "op": "result", "value": None}
            assert page.dom["callback", "1"] == [89]  # cb(fib(10)) came before the result
            wrong = await page.call("fibLater", 10, 5)
    assert wrong["op"] == "fail" and "function" in wrong["message"]


async def test_the_demo_server_links_and_serves_both_variants() -> None:
    from tests.helpers import call

    app = load_file("servers/web_demo.py", "web_demo_for_test").build_app()
    home = (await call(app, "GET", "/")).body.decode()
    for demo in DEMOS:
        assert f'href="/demo/bridge/{demo}"' in home and f'href="/demo/wasm/{demo}"' in home
        for variant in ("bridge", "wasm"):
            assert (await call(app, "GET", f"/demo/{variant}/{demo}")).status == 200
    assert (await call(app, "GET", "/demo/wasm-src/callback.py")).status == 200
