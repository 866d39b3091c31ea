"""The four demos of the Go series' ``demo-wasm/`` as Python compiled to WebAssembly
(Pyodide, from npm, served by geetrio's static files — no CDN): ``mount(app)`` serves
``/demo/wasm/<demo>`` (pages), ``/demo/wasm-src/`` (the Python files run in the page,
from ``examples/wasm/py/``)
and ``/pyodide/`` (Pyodide itself, after ``make pyodide``). Without Pyodide the page
says how to install it.
"""

from __future__ import annotations

import html
from pathlib import Path

from geetrio.web import Context, Engine

HERE = Path(__file__).resolve().parent
PYODIDE = HERE / "node_modules" / "pyodide"
DEMOS = {
    "hello-world": "hello_world.py",
    "register-functions": "register_functions.py",
    "manipulate-dom": "manipulate_dom.py",
    "callback": "callback.py",
}
FORM = """<input id="num" type="number" value="10" min="0" max="90">
<button id="btn">Click</button>
<p id="ans">1</p>"""
ONCLICK = {
    "register-functions": "document.getElementById('btn').onclick = () => {"
    " document.getElementById('ans').innerHTML ="
    " fibFunc(document.getElementById('num').value * 1); };",
    "callback": "document.getElementById('btn').onclick = () => {"
    " fibFunc(document.getElementById('num').value * 1,"
    " (v) => { document.getElementById('ans').innerHTML = v; }); };",
}


def page(name: str) -> str:
    source = DEMOS[name]
    form = "" if name == "hello-world" else FORM
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name} — Python in WebAssembly</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}}</style></head>
<body>
<h1>{html.escape(name)}</h1>
<p>This page runs <a href="/demo/wasm-src/{source}">{source}</a> with CPython compiled to
WebAssembly (Pyodide), in your browser. <span id="status">Loading Python…</span></p>
{form}
<p><a href="/">home</a> · the same demo driven from the server:
<a href="/demo/bridge/{name}">/demo/bridge/{name}</a></p>
<script>
(async () => {{
  const status = document.getElementById("status");
  const script = document.createElement("script");
  script.src = "/pyodide/pyodide.js";
  script.onerror = () => {{
    status.textContent = "Pyodide is not installed here: run `make pyodide` (npm) and reload.";
  }};
  script.onload = async () => {{
    const pyodide = await loadPyodide({{ indexURL: "/pyodide/" }});
    const code = await (await fetch("/demo/wasm-src/{source}")).text();
    {ONCLICK.get(name, "")}
    await pyodide.runPythonAsync(code);
    status.textContent = "Python is running.";
    document.body.dataset.ready = "true";
  }};
  document.head.appendChild(script);
}})();
</script>
</body></html>
"""


def mount(app: Engine) -> None:
    async def demo(c: Context) -> None:
        name = c.param("demo")
        if name not in DEMOS:
            c.string(404, "404 NOT FOUND: %s\n", c.path)
            return
        c.set_header("content-type", "text/html; charset=utf-8")
        c.data(200, page(name).encode())

    app.get("/demo/wasm/:demo", demo)
    app.static("/demo/wasm-src", HERE / "py")
    app.static("/pyodide", PYODIDE)
