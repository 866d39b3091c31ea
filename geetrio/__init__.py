"""geetrio: a structured-concurrency network stack on trio.

Subpackages, each layer standing on the ones before it:

- ``geetrio.http``: HTTP/1.1 core — sans-IO request and response parsers, the server
  loop with its limits and graceful shutdown, a pooled client and a pipelining one;
- ``geetrio.web``: Gee, a gin-like web framework (trie router, groups, middleware,
  templates, static files, WebSocket routes);
- ``geetrio.cache``: GeeCache, a groupcache-like distributed cache (LRU, singleflight,
  consistent hashing, groups, the HTTP peer pool);
- ``geetrio.orm``: GeeORM, an ORM over sqlite (dataclass models, immutable queries,
  hooks, transactions that roll back on cancellation, migrations);
- ``geetrio.rpc``: GeeRPC, a net/rpc-like RPC framework (sans-IO framing, services by
  reflection, a concurrent client with per-call timeouts, HTTP CONNECT, load
  balancing, a heartbeat registry);
- ``geetrio.bridge``: Python on the server drives a browser page over a WebSocket on
  the same server (a sans-IO message protocol, a small JS client, ``Page`` and
  ``Bridge``).

Every error geetrio raises itself is a ``geetrio.GeetrioError``.
"""

from .errors import GeetrioError

__all__ = ["GeetrioError", "__version__"]
__version__ = "0.1.0"
