"""The Python-to-browser bridge: Python on the server drives the page over a WebSocket
on geetrio's own server (trio-websocket), with a small JS client and a sans-IO message
protocol.

>>> from geetrio.bridge import Bridge
>>> bridge = Bridge()
>>> @bridge.function
... def fib(n: int) -> int:
...     return 1 if n < 2 else fib(n - 1) + fib(n - 2)
>>> # bridge.mount(app); in the page: await geetrio.call("fib", 10)
"""

from ._bridge import DEFAULT_PATH, Bridge
from ._errors import BadMessage, BridgeError, PageClosed
from ._page import Callback, Page

__all__ = [
    "DEFAULT_PATH",
    "BadMessage",
    "Bridge",
    "BridgeError",
    "Callback",
    "Page",
    "PageClosed",
]
