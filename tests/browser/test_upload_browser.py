"""Uploads from Debian's Chromium: files chosen in an ``<input type=file>`` of a real page
and posted as the browser encodes a form arrive whole (a 3 MB one spooled to disk, a
small one in memory) next to the text fields, and the page gets the server's answer."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import trio

from geetrio.web import Context, Engine, FormLimits
from tests.browser.test_bridge_demos import launch

PAGE = """<!doctype html>
<form id="f" enctype="multipart/form-data">
  <input name="title" value="holiday pictures">
  <input type="file" name="photos" multiple>
</form>
<script>
async function send() {
  const answer = await fetch("/upload", {method: "POST", body: new FormData(f)});
  return answer.json();
}
</script>"""


def browse(base: str, files: list[Path]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{base}/")
            page.set_input_files("input[type=file]", [str(f) for f in files])
            return page.evaluate("send()")  # type: ignore[no-any-return]
        finally:
            browser.close()


async def test_files_chosen_in_chromium_arrive_whole(nursery: trio.Nursery, tmp_path: Path) -> None:
    big, small = tmp_path / "big photo.jpg", tmp_path / "note.txt"
    big.write_bytes(os.urandom(3 << 20))
    small.write_bytes("héllo".encode())
    app = Engine()
    app.form_limits = FormLimits(spool_bytes=1 << 20)

    @app.get("/")
    async def index(c: Context) -> None:
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, PAGE.encode())

    @app.post("/upload", stream_body=True)
    async def upload(c: Context) -> None:
        form = await c.form()
        photos = []
        for photo in form.files["photos"]:
            digest = hashlib.sha256(await photo.read()).hexdigest()
            photos.append([photo.filename, photo.size, digest, photo.in_memory])
        c.json(200, {"title": c.post_form("title"), "photos": photos})

    port = await nursery.start(app.serve, "127.0.0.1", 0)
    answer = await trio.to_thread.run_sync(browse, f"http://127.0.0.1:{port}", [big, small])
    assert answer["title"] == "holiday pictures"
    assert answer["photos"] == [
        ["big photo.jpg", 3 << 20, hashlib.sha256(big.read_bytes()).hexdigest(), False],
        ["note.txt", 6, hashlib.sha256(small.read_bytes()).hexdigest(), True],
    ]
