"""Gee: a gin-like web framework on trio.

>>> from geetrio.web import default
>>> app = default()                       # logger() and recovery() installed
>>> @app.get("/hello/:name")
... async def hello(c):
...     c.string(200, "hello %s, you're at %s\\n", c.param("name"), c.path)
>>> # app.run(":9999")  or  port = await nursery.start(app.serve, "127.0.0.1", 0)
"""

from .context import Context
from .engine import Engine, RouterGroup
from .middleware import logger, recovery
from .router import Router
from .types import HandlerFunc

__all__ = [
    "Context",
    "Engine",
    "HandlerFunc",
    "Router",
    "RouterGroup",
    "default",
    "logger",
    "recovery",
]


def default() -> Engine:
    """An ``Engine`` with ``logger()`` and ``recovery()`` installed."""
    engine = Engine()
    engine.use(logger(), recovery())
    return engine
