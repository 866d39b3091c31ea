# callback, in the browser: fibFunc(n, cb) writes "Waiting 3s..." at once and calls
# cb(fib(n)) 3 s later (an asyncio sleep on Pyodide's event loop, the browser's).
import asyncio

import js
from pyodide.ffi import create_proxy

DELAY = 3.0


def fib(n: int) -> int:
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a


async def answer_later(n: int, callback: object) -> None:
    await asyncio.sleep(DELAY)
    callback(fib(n))


PENDING: set[asyncio.Task[None]] = set()  # a task must be referenced until it is done


def fib_func(n: object, callback: object) -> None:
    js.document.getElementById("ans").innerHTML = "Waiting 3s..."
    task = asyncio.ensure_future(answer_later(int(n), callback))
    PENDING.add(task)
    task.add_done_callback(PENDING.discard)


js.fibFunc = create_proxy(fib_func)
