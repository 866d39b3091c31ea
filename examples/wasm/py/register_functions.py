# register-functions, in the browser: a Python function set as the JS global fibFunc;
# the button's onclick does `ans.innerHTML = fibFunc(num.value * 1)`.
import js
from pyodide.ffi import create_proxy


def fib(n: int) -> int:
    a, b = 1, 1  # fib(0) = fib(1) = 1, as in the Go demos
    for _ in range(n):
        a, b = b, a + b
    return a


js.fibFunc = create_proxy(lambda n: fib(int(n)))
