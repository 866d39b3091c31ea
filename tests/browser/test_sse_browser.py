"""Server-Sent Events in Debian's Chromium: an ``EventSource`` receives the events, and
when the stream ends it reconnects (after the ``retry`` the server set) with
``Last-Event-ID``, and the server resumes after it."""

from __future__ import annotations

import trio

from geetrio.web import Context, Engine, ServerSentEvent
from tests.browser.test_bridge_demos import launch

PAGE = b"""<!doctype html><html><body><script>
window.seen = [];
const source = new EventSource("/events");
source.onmessage = (e) => { window.seen.push(e.lastEventId + ":" + e.data);
  if (window.seen.length >= 4) source.close(); };
</script></body></html>"""


def watch(base: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            page.wait_for_function("window.seen.length >= 4", timeout=15_000)
            return list(page.evaluate("window.seen"))
        finally:
            browser.close()


async def test_an_event_source_reconnects_with_last_event_id(nursery: trio.Nursery) -> None:
    app = Engine()
    asked: list[str] = []

    @app.get("/")
    async def index(c: Context) -> None:
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, PAGE)

    @app.get("/events")
    async def events(c: Context) -> None:
        asked.append(c.last_event_id)
        start = int(c.last_event_id or 0)

        async def two():  # type: ignore[no-untyped-def]
            for i in (1, 2):  # then the stream ends: the browser comes back for more
                yield ServerSentEvent(f"event {start + i}", id=str(start + i), retry=50)

        c.sse(two())

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    seen = await trio.to_thread.run_sync(watch, f"http://127.0.0.1:{port}")
    assert seen[:4] == ["1:event 1", "2:event 2", "3:event 3", "4:event 4"]
    assert asked[:2] == ["", "2"]  # the reconnect said where it stopped
