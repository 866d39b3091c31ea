"""Cookies in Debian's Chromium: a session cookie the server sets comes back on the next
request (the count goes on), an HttpOnly cookie is out of the page's JavaScript, and a
cookie the server deletes is gone."""

from __future__ import annotations

from typing import Any

import trio

from geetrio.web import Context, Engine, sessions
from tests.browser.test_bridge_demos import launch


def browse(base: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            seen = [page.goto(f"{base}/visit").text() for _ in range(3)]
            script_sees = page.evaluate("document.cookie")
            page.goto(f"{base}/logout")
            after = page.goto(f"{base}/visit").text()
            return {"seen": seen, "script_sees": script_sees, "after": after}
        finally:
            browser.close()


async def test_a_session_cookie_round_trips_in_chromium(nursery: trio.Nursery) -> None:
    app = Engine()
    app.use(sessions(["browser-session-key-0123456789"]))

    @app.get("/visit")
    async def visit(c: Context) -> None:
        c.session["n"] = c.session.get("n", 0) + 1
        c.set_cookie("visible", "yes", http_only=False)
        c.string(200, "visit %d", c.session["n"])

    @app.get("/logout")
    async def logout(c: Context) -> None:
        c.session.clear()
        c.delete_cookie("visible")
        c.string(200, "bye")

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    result = await trio.to_thread.run_sync(browse, f"http://127.0.0.1:{port}")
    assert result["seen"] == ["visit 1", "visit 2", "visit 3"]
    assert result["script_sees"] == "visible=yes"  # the HttpOnly session is not there
    assert result["after"] == "visit 1"  # logged out: a fresh session
