"""Gee: a gin-like web framework on trio.

>>> from geetrio.web import default
>>> app = default()                       # logger() and recovery() installed
>>> @app.get("/hello/:name")
... async def hello(c):
...     c.string(200, "hello %s, you're at %s\\n", c.param("name"), c.path)
>>> # app.run(":9999")  or  port = await nursery.start(app.serve, "127.0.0.1", 0)
"""

from ._auth import basic_auth, bearer_auth
from ._context import Context
from ._cookies import Session, Signer
from ._cors import cors
from ._engine import Engine, RouterGroup
from ._errors import BindError, HTTPException
from ._gzip import gzip
from ._health import Check
from ._middleware import logger, recovery
from ._multipart import FormData, FormLimits
from ._proxies import request_id, timeout, trusted_proxies
from ._router import Router
from ._sessions import sessions
from ._sse import ServerSentEvent
from ._testing import TestClient
from ._types import HandlerFunc
from ._upload import UploadFile

__all__ = [
    "BindError",
    "Check",
    "Context",
    "Engine",
    "FormData",
    "FormLimits",
    "HTTPException",
    "HandlerFunc",
    "Router",
    "RouterGroup",
    "ServerSentEvent",
    "Session",
    "Signer",
    "TestClient",
    "UploadFile",
    "basic_auth",
    "bearer_auth",
    "cors",
    "default",
    "gzip",
    "logger",
    "recovery",
    "request_id",
    "sessions",
    "timeout",
    "trusted_proxies",
]


def default() -> Engine:
    """An ``Engine`` with ``logger()`` and ``recovery()`` installed."""
    engine = Engine()
    engine.use(logger(), recovery())
    return engine
