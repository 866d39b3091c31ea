"""The root of every error geetrio raises itself: ``except geetrio.GeetrioError``
catches them all, whichever package raised them. A leaf: imports nothing.

Under it, one base per package — ``http.HTTPError``, ``cache.CacheError``,
``orm.ORMError``, ``rpc.RPCError``, ``bridge.BridgeError``, ``etcd.EtcdError`` — and
under those the errors users catch apart. Timeouts are also ``trio.TooSlowError``
where they are their own class (``rpc.RPCTimeout``).
"""

from __future__ import annotations

__all__ = ["GeetrioError"]


class GeetrioError(Exception):
    """Base class of every error raised by geetrio itself."""
