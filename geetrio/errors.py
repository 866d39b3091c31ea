"""The root of every error geetrio raises itself: ``except geetrio.GeetrioError``
catches them all, whichever package raised them. A leaf: imports nothing.

Under it, one base per package — ``http.HTTPError``, ``cache.CacheError``,
``orm.ORMError``, ``rpc.RPCError``, ``bridge.BridgeError``,
``discovery.DiscoveryError`` — and under those the errors users catch apart: what the
other side said (``rpc.RemoteError``), the connection lost (``rpc.ShutdownError``,
``cache.PeerError``), and timeouts, which are also ``trio.TooSlowError``
(``rpc.RPCTimeout``, ``cache.PeerTimeout``, ``discovery.DiscoveryTimeout``,
``discovery.EtcdTimeout``). Timeouts the caller sets with its own cancel scope (every
``http`` call, ``orm`` statements) are trio's own ``TooSlowError``.
"""

from __future__ import annotations

__all__ = ["GeetrioError"]


class GeetrioError(Exception):
    """Base class of every error raised by geetrio itself."""
