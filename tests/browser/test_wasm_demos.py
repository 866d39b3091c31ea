"""The four demos as Python in WebAssembly (Pyodide, served by geetrio from npm's
package, nothing from a CDN) in headless Chromium; and the page without Pyodide."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

import trio

from geetrio.web import Engine
from servers.loading import load_file
from tests.browser.test_bridge_demos import launch

WASM = Path(__file__).resolve().parents[2] / "examples" / "wasm"
LOAD = 30_000  # ms: Pyodide takes a few seconds to start


def wasm_demos() -> ModuleType:
    return load_file("examples/wasm/wasm_demos.py", "wasm_demos")


def drive(base: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            started = time.perf_counter()
            with page.expect_event("dialog", timeout=LOAD) as dialog:
                page.goto(f"{base}/demo/wasm/hello-world")
            seen["alert"] = dialog.value.message
            dialog.value.accept()
            page.wait_for_selector("body[data-ready='true']", timeout=LOAD)
            seen["load seconds"] = time.perf_counter() - started
            for demo in ("register-functions", "manipulate-dom"):
                page.goto(f"{base}/demo/wasm/{demo}")
                page.wait_for_selector("body[data-ready='true']", timeout=LOAD)
                page.fill("#num", "10")
                page.click("#btn")
                page.wait_for_function("document.querySelector('#ans').innerHTML === '89'")
                seen[demo] = page.inner_text("#ans")
            page.goto(f"{base}/demo/wasm/callback")
            page.wait_for_selector("body[data-ready='true']", timeout=LOAD)
            page.fill("#num", "10")
            page.click("#btn")
            seen["waiting"] = page.inner_text("#ans")
            page.wait_for_function(
                "document.querySelector('#ans').innerHTML === '89'", timeout=10_000
            )
            seen["callback"] = page.inner_text("#ans")
            seen["foreign requests"] = [u for u in requests if not u.startswith(base)]
        finally:
            browser.close()
    return seen


async def test_the_four_wasm_demos_in_chromium(nursery: trio.Nursery) -> None:
    module = wasm_demos()
    assert (module.PYODIDE / "pyodide.js").exists(), "run `make pyodide` (make test does)"
    app = Engine()
    module.mount(app)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    seen = await trio.to_thread.run_sync(drive, f"http://127.0.0.1:{port}")
    load = seen.pop("load seconds")
    assert seen == {
        "alert": "Hello World!",
        "register-functions": "89",
        "manipulate-dom": "89",
        "waiting": "Waiting 3s...",
        "callback": "89",
        "foreign requests": [],  # no CDN: everything came from geetrio
    }
    assert load > 0


def drive_missing(base: str) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{base}/demo/wasm/register-functions")
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('make pyodide')"
            )
            return str(page.inner_text("#status"))
        finally:
            browser.close()


async def test_without_pyodide_the_page_says_how_to_install_it(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    module = wasm_demos()
    module.PYODIDE = tmp_path / "missing"  # as on a machine without `make pyodide`
    app = Engine()
    module.mount(app)
    port = await nursery.start(app.serve, "127.0.0.1", 0)
    status = await trio.to_thread.run_sync(drive_missing, f"http://127.0.0.1:{port}")
    assert "Pyodide is not installed" in status and "make pyodide" in status
