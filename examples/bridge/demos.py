"""The Go series' four WebAssembly demos, with Python on the server driving the page
through the bridge, at ``/demo/bridge/<demo>`` (``hello-world``, ``register-functions``,
``manipulate-dom``, ``callback``); ``servers/web_demo.py`` and ``make run`` serve them.
Same DOM ids and behaviour as the originals: ``#num``, ``#btn``, ``#ans``; fib(0) =
fib(1) = 1; the callback page shows "Waiting 3s..." at once and the answer about 3 s
later. Each page sets ``document.body.dataset.ready = "true"`` once its Python side is
ready.
"""

from __future__ import annotations

import html
from typing import Any

import trio

from geetrio.bridge import DEFAULT_PATH, Bridge, Callback, Page
from geetrio.web import Context, Engine

__all__ = ["DEMOS", "fib", "mount_demos"]

DEMOS = ("hello-world", "register-functions", "manipulate-dom", "callback")


def fib(n: int) -> int:
    """fib(0) = fib(1) = 1, as in the Go demos."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 90:
        raise ValueError("fib takes an integer from 0 to 90")
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a


_FORM = """<input id="num" type="number" value="10" min="0" max="90">
<button id="btn">Click</button>
<p id="ans">1</p>"""

_PAGE_JS = {
    "hello-world": "",
    "register-functions": """document.getElementById("btn").onclick = async () => {
  const ans = document.getElementById("ans");
  ans.innerHTML = await geetrio.call("fibFunc", document.getElementById("num").value * 1);
};""",
    "manipulate-dom": "",  # Python listens to #btn itself
    "callback": """document.getElementById("btn").onclick = () => {
  const ans = document.getElementById("ans");
  geetrio.call("fibLater", document.getElementById("num").value * 1, (v) => { ans.innerHTML = v; });
  ans.innerHTML = "Waiting 3s...";
};""",
}

_WHAT = {
    "hello-world": "Python on the server calls <code>alert(...)</code> in this page.",
    "register-functions": "The button calls the Python function <code>fibFunc</code>.",
    "manipulate-dom": (
        "Python listens to the button's clicks, reads <code>#num</code>, writes <code>#ans</code>."
    ),
    "callback": "Python answers after 3 s by calling back a JS function the page passed.",
}


def page_html(name: str, bridge_path: str = DEFAULT_PATH) -> str:
    form = "" if name == "hello-world" else _FORM
    script = _PAGE_JS[name]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(name)} — geetrio bridge</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}}</style></head>
<body>
<h1>{html.escape(name)}</h1>
<p>{_WHAT[name]}</p>
{form}
<p><a href="/">home</a> · the same demo in WebAssembly:
<a href="/demo/wasm/{name}">/demo/wasm/{name}</a></p>
<script src="{bridge_path}/client.js" data-page="{html.escape(name)}"></script>
<script>{script}</script>
</body></html>
"""


def mount_demos(
    app: Engine,
    bridge: Bridge,
    *,
    prefix: str = "/demo/bridge",
    callback_delay: float = 3.0,
    bridge_path: str = DEFAULT_PATH,
) -> None:
    """The four pages at ``prefix/<demo>``, their Python side on ``bridge``."""

    async def fib_later(n: int, callback: Any) -> None:
        if not isinstance(callback, Callback):
            raise TypeError("fibLater(n, callback): the second argument is a function")
        await trio.sleep(callback_delay)
        await callback(fib(n))

    bridge.function(fib, name="fibFunc")
    bridge.function(fib_later, name="fibLater")

    @bridge.page("hello-world")
    async def hello_world(page: Page) -> None:
        await page.ready()  # ready first: the alert blocks the page until dismissed
        await page.alert("Hello World!")

    @bridge.page("manipulate-dom")
    async def manipulate_dom(page: Page) -> None:
        async def clicked(event: dict[str, Any]) -> None:
            n = int(await page.get("#num", "value"))
            await page.set("#ans", "innerHTML", str(fib(n)))

        page.on("#btn", "click", clicked)

    async def demo(c: Context) -> None:
        name = c.param("demo")
        if name not in DEMOS:
            c.string(404, "404 NOT FOUND: %s\n", c.path)
            return
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, page_html(name, bridge_path).encode())

    app.get(prefix + "/:demo", demo)
