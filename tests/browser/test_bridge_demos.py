"""The bridge demo pages in a real browser: Debian's headless Chromium driven by
Playwright's sync API in a worker thread (Playwright's async API is asyncio-only),
while the geetrio server runs in the test's trio loop."""

from __future__ import annotations

import shutil
from typing import Any

import trio
import trio.testing

from geetrio.bridge import Bridge
from geetrio.web import Engine
from servers.loading import load_file

mount_demos = load_file("examples/bridge/demos.py", "bridge_demos").mount_demos

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Any) -> Any:
    assert shutil.which(CHROMIUM), "Chromium is installed by `make test` (apt-get install chromium)"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


def drive_demos(base: str) -> dict[str, Any]:
    """Click through the four pages; what each showed."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            with page.expect_event("dialog", timeout=15_000) as dialog:
                page.goto(f"{base}/demo/bridge/hello-world")
            seen["alert"] = dialog.value.message
            dialog.value.accept()
            page.wait_for_selector("body[data-ready='true']", timeout=15_000)

            for demo in ("register-functions", "manipulate-dom"):
                page.goto(f"{base}/demo/bridge/{demo}")
                page.wait_for_selector("body[data-ready='true']", timeout=15_000)
                page.fill("#num", "10")
                page.click("#btn")
                page.wait_for_function(
                    "document.querySelector('#ans').innerHTML === '89'", timeout=15_000
                )
                seen[demo] = page.inner_text("#ans")

            page.goto(f"{base}/demo/bridge/callback")
            page.wait_for_selector("body[data-ready='true']", timeout=15_000)
            page.fill("#num", "10")
            page.click("#btn")
            seen["waiting"] = page.inner_text("#ans")  # at once
            page.wait_for_function(
                "document.querySelector('#ans').innerHTML === '89'", timeout=15_000
            )
            seen["callback"] = page.inner_text("#ans")

            # a tab closed mid-call: the server goes on serving the next one
            doomed = browser.new_page()
            doomed.goto(f"{base}/demo/bridge/callback")
            doomed.wait_for_selector("body[data-ready='true']", timeout=15_000)
            doomed.click("#btn")
            doomed.close()
            page.goto(f"{base}/demo/bridge/register-functions")
            page.wait_for_selector("body[data-ready='true']", timeout=15_000)
            page.fill("#num", "5")
            page.click("#btn")
            page.wait_for_function(
                "document.querySelector('#ans').innerHTML === '8'", timeout=15_000
            )
            seen["after-close"] = page.inner_text("#ans")
        finally:
            browser.close()
    return seen


async def test_the_four_bridge_demos_in_chromium(nursery: trio.Nursery) -> None:
    app = Engine()
    bridge = Bridge()
    bridge.mount(app)
    mount_demos(app, bridge, callback_delay=0.5)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    seen = await trio.to_thread.run_sync(drive_demos, f"http://127.0.0.1:{port}")
    assert seen == {
        "alert": "Hello World!",
        "register-functions": "89",
        "manipulate-dom": "89",
        "waiting": "Waiting 3s...",
        "callback": "89",
        "after-close": "8",
    }
    with trio.fail_after(10):  # every tab's connection ended with its page
        while bridge.connected:
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)


def probe_safety(page_url: str, own_url: str, bridge_ws: str) -> dict[str, Any]:
    """From a page of *another* origin, try the bridge; then, from a page of its own
    origin, send a message over the size cap and one that is not JSON."""
    from playwright.sync_api import sync_playwright

    # [url, text, repeat]: send `text`, or "x" repeated `repeat` times; the close code
    script = """async ([url, text, repeat]) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => { if (text !== null) ws.send(repeat ? "x".repeat(repeat) : text); };
        ws.onclose = (e) => resolve(e.code);
        ws.onerror = () => {};
    })"""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(page_url)  # served by the other server: a foreign origin
            foreign = page.evaluate(script, [bridge_ws, None, 0])
            own = browser.new_page()
            own.goto(own_url)
            big = own.evaluate(script, [bridge_ws, "", 1024 * 1024 + 1024])  # just over the cap
            bad = own.evaluate(script, [bridge_ws, "{not json", 0])
            after = browser.new_page()
            after.goto(own_url.replace("hello-world", "register-functions"))
            after.wait_for_selector("body[data-ready='true']", timeout=15_000)
            after.fill("#num", "5")
            after.click("#btn")
            after.wait_for_function("document.querySelector('#ans').innerHTML === '8'")
            return {"foreign": foreign, "big": big, "bad": bad, "after": after.inner_text("#ans")}
        finally:
            browser.close()


async def test_the_bridge_refuses_other_origins_and_bad_messages(nursery: trio.Nursery) -> None:
    app = Engine()
    bridge = Bridge()
    bridge.mount(app)
    mount_demos(app, bridge)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    other = Engine()

    @other.get("/")
    async def plain(c: Any) -> None:
        c.data(200, b"<!doctype html><title>another site</title>")

    other_port = await nursery.start(other.serve, "127.0.0.1", 0)
    codes = await trio.to_thread.run_sync(
        probe_safety,
        f"http://127.0.0.1:{other_port}/",
        f"http://127.0.0.1:{port}/demo/bridge/hello-world",
        f"ws://127.0.0.1:{port}/_bridge/ws?page=x",
    )
    assert codes["foreign"] == 1006  # the handshake was refused (403): no WebSocket at all
    assert codes["bad"] == 1003
    assert codes["big"] == 1009  # read whole, then refused: the page sees the code
    assert codes["after"] == "8"  # and the server goes on: a new tab works
