"""geetrio: a structured-concurrency network stack on trio.

Subpackages: ``geetrio.http`` (HTTP/1.1 core), ``geetrio.web`` (Gee, a gin-like web
framework). More layers (cache, ORM, RPC, browser bridge) build on these.
"""

__version__ = "0.1.0"
