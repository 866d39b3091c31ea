"""GeeRPC: a net/rpc-like RPC framework on trio — services by reflection, a
concurrent client with per-call timeouts, HTTP CONNECT transport, load balancing and
a heartbeat registry.

>>> from geetrio import rpc
>>> # server = rpc.Server(); server.register(Foo())
>>> # port = await nursery.start(server.serve, "127.0.0.1", 0)
>>> # async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
>>> #     await client.call("Foo.Sum", Args(1, 2), timeout=1.0)
"""

from .client import Client, dial, dial_http, open_client, xdial
from .codec import Codec, JSONCodec, get_codec, register_codec
from .errors import FrameError, RemoteError, RPCError, RPCTimeout, ShutdownError
from .etcd import DEFAULT_ETCD_PREFIX, EtcdDiscovery, etcd_register
from .protocol import MAGIC_NUMBER, FrameDecoder, Header, Option, OptionReader
from .registry import (
    DEFAULT_REGISTRY_PATH,
    Registry,
    RegistryDiscovery,
    RegistryFull,
    heartbeat,
)
from .server import Server
from .service import Method, Service
from .xclient import (
    Balancer,
    Discovery,
    MultiServersDiscovery,
    RandomBalancer,
    RoundRobinBalancer,
    SelectMode,
    XClient,
)

__all__ = [
    "DEFAULT_ETCD_PREFIX",
    "DEFAULT_REGISTRY_PATH",
    "MAGIC_NUMBER",
    "Balancer",
    "Client",
    "Codec",
    "Discovery",
    "EtcdDiscovery",
    "FrameDecoder",
    "FrameError",
    "Header",
    "JSONCodec",
    "Method",
    "MultiServersDiscovery",
    "Option",
    "OptionReader",
    "RPCError",
    "RPCTimeout",
    "RandomBalancer",
    "Registry",
    "RegistryDiscovery",
    "RegistryFull",
    "RemoteError",
    "RoundRobinBalancer",
    "SelectMode",
    "Server",
    "Service",
    "ShutdownError",
    "XClient",
    "dial",
    "dial_http",
    "etcd_register",
    "get_codec",
    "heartbeat",
    "open_client",
    "register_codec",
    "xdial",
]
