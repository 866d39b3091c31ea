"""What servers do with a connection's stream whatever it is (a socket stream, our TLS
stream over one, a test's memory stream): find the socket under it, name its peer,
close it at once."""

from __future__ import annotations

import trio

from .sockstream import FastSocketStream
from .tlsstream import TLSStream

__all__ = ["close_now", "peer_address", "transport_of"]


def transport_of(stream: trio.abc.Stream) -> trio.abc.Stream:
    """The stream under any TLS layers of ``stream``."""
    while isinstance(stream, TLSStream | trio.SSLStream):
        stream = stream.transport_stream
    return stream


def close_now(stream: trio.abc.Stream) -> bool:
    """Close a connection's ``stream`` at once, without a checkpoint or a cancel scope,
    when it is a socket stream or a ``TLSStream`` over one (what a server does with
    every connection it ends: ``aclose_forcefully`` costs a cancel scope and a trip
    through the scheduler). False, nothing done, for other streams."""
    if isinstance(stream, TLSStream):
        return stream.close_now()
    if isinstance(stream, trio.SocketStream | FastSocketStream):
        stream.socket.close()
        return True
    return False


def peer_address(stream: trio.abc.Stream) -> str:
    """``host:port`` of the peer of a socket stream (through TLS layers); "" else."""
    sock = getattr(transport_of(stream), "socket", None)
    if sock is None:
        return ""
    try:
        peer = sock.getpeername()
    except OSError:
        return ""
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
