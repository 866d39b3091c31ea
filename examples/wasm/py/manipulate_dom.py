# manipulate-dom, in the browser: Python listens to #btn, reads #num, writes #ans.
import js
from pyodide.ffi import create_proxy


def fib(n: int) -> int:
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def clicked(event: object) -> None:
    n = int(js.document.getElementById("num").value)
    js.document.getElementById("ans").innerHTML = str(fib(n))


js.document.getElementById("btn").addEventListener("click", create_proxy(clicked))
